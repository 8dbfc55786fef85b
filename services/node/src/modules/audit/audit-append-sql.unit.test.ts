import { describe, expect, it } from 'vitest';

import { chainEntries } from '@mcx/audit';

import { GUESSED_APPEND, guessedAppendParams } from './audit-append-sql.js';
import { testEntry as entry } from './test-entry.js';

describe('the one-statement group append', () => {
  it('numbers exactly the parameters it is given, each once at least, and binds each column to its own array', () => {
    const stored = chainEntries(null, [entry(1), entry(2)]);
    const params = guessedAppendParams(null, stored, [{ peer: 'GMP', peerEntryId: 'GMP:3', receiptJws: 'r', ourSeq: 1 }]);
    const used = new Set([...GUESSED_APPEND.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    expect(Math.max(...used)).toBe(params.length);
    expect(used.size).toBe(params.length);
    // The entries' columns, in the order the insert names them.
    const columns = GUESSED_APPEND.match(/as e\(([^)]*)\)/)![1]!
      .split(',')
      .map((c) => c.trim());
    const first = GUESSED_APPEND.match(/unnest\(\$(\d+)::bigint\[\], \$\d+::text\[\], \$\d+::text\[\], \$\d+::text\[\], \$\d+::text\[\]/g)!;
    expect(first).toHaveLength(1);
    const at = (column: string) => params[Number(first[0]!.match(/\$(\d+)/)![1]) - 1 + columns.indexOf(column)] as unknown[];
    expect(at('seq')).toEqual([1, 2]);
    expect(at('actor_subject')).toEqual(['investigator-1', 'investigator-2']);
    expect(at('actor_force')).toEqual(['WMP', 'WMP']);
    expect(at('requesting_node')).toEqual([null, null]);
    expect(at('record_ids')).toEqual(['["WMP/r-1"]', '["WMP/r-2"]']);
    expect(JSON.parse((at('entry') as string[])[1]!)).toEqual(stored[1]!.entry);
    expect(params.slice(0, 2)).toEqual([0, '']);
  });
});
