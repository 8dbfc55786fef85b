import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { AssociateIdentity } from './identity.js';
import { buildKeyInputs, type KeyInput } from './keys.js';
import { matchKeys, type MatchResult } from './match.js';

type Expect = 'strong' | 'possible' | 'any' | 'none' | 'none_strong' | 'strong_with_conflict';
interface LinkageCase {
  a: AssociateIdentity;
  b: AssociateIdentity;
  expect: Expect;
  why: string;
}
interface Fixture {
  about: string;
  thresholds: { recall_true_matches: number; false_strong: number; false_any_on_none: number };
  cases: LinkageCase[];
}

// The project's own copy of the shared fixture; tests never read outside the repo.
const fixture = JSON.parse(readFileSync(new URL('../test-fixtures/linkage-cases.json', import.meta.url), 'utf8')) as Fixture;

// The OPRF is a deterministic function of its input, so comparing the plain key input
// strings gives exactly the matches the OPRF keys would.
const plain = (keys: KeyInput[]) => keys.map((k) => ({ kind: k.kind, strength: k.strength, key: k.input, variant: k.variant }));

function run(c: LinkageCase): MatchResult {
  const record = buildKeyInputs(c.a, { role: 'record' });
  const query = buildKeyInputs(c.b, { role: 'query' });
  return matchKeys(plain(query), plain(record));
}

const TRUE_MATCH: ReadonlySet<Expect> = new Set(['strong', 'possible', 'any', 'strong_with_conflict']);

function agrees(expect: Expect, r: MatchResult): boolean {
  switch (expect) {
    case 'strong':
      return r.strength === 'strong';
    case 'possible':
      return r.strength === 'possible';
    case 'any':
      return r.strength !== 'none';
    case 'none':
      return r.strength === 'none';
    case 'none_strong':
      return r.strength !== 'strong';
    case 'strong_with_conflict':
      return r.strength === 'strong' && r.conflicts.length > 0;
  }
}

describe('linkage fixture (test-fixtures/linkage-cases.json)', () => {
  const results = fixture.cases.map((c) => ({ c, r: run(c) }));
  const trueMatches = results.filter(({ c }) => TRUE_MATCH.has(c.expect));
  const found = trueMatches.filter(({ r }) => r.strength !== 'none');
  const falseStrong = results.filter(({ c, r }) => !TRUE_MATCH.has(c.expect) && r.strength === 'strong');
  const falseOnNone = results.filter(({ c, r }) => c.expect === 'none' && r.strength !== 'none');
  const allMatched = results.filter(({ r }) => r.strength !== 'none');
  const matchedTrue = allMatched.filter(({ c }) => TRUE_MATCH.has(c.expect));
  const recall = found.length / trueMatches.length;
  const precision = matchedTrue.length / allMatched.length;
  const strongMatched = results.filter(({ r }) => r.strength === 'strong');
  const strongPrecision = strongMatched.filter(({ c }) => TRUE_MATCH.has(c.expect)).length / strongMatched.length;
  const disagreements = results.filter(({ c, r }) => !agrees(c.expect, r));

  it('meets the fixture thresholds', () => {
    console.info(
      [
        `linkage fixture: ${results.length} cases, ${trueMatches.length} true matches`,
        `  recall ${recall.toFixed(3)} (${found.length}/${trueMatches.length})`,
        `  precision, any match ${precision.toFixed(3)} (${matchedTrue.length}/${allMatched.length}; ` +
          `possible on a none_strong pair counts against it)`,
        `  precision, strong ${strongPrecision.toFixed(3)}; false strong ${falseStrong.length}; ` +
          `matches where none expected ${falseOnNone.length}`,
        `  exact agreement with expect ${results.length - disagreements.length}/${results.length}`,
        ...disagreements.map(({ c, r }) => `  DISAGREE ${c.why}: expected ${c.expect}, got ${r.strength} [${r.kinds.join(',')}]`),
      ].join('\n'),
    );
    expect(recall).toBeGreaterThanOrEqual(fixture.thresholds.recall_true_matches);
    expect(falseStrong.length).toBeLessThanOrEqual(fixture.thresholds.false_strong);
    expect(falseOnNone.length).toBeLessThanOrEqual(fixture.thresholds.false_any_on_none);
  });

  it.each(fixture.cases.map((c) => [c.why, c] as const))('%s', (_why, c) => {
    const r = run(c);
    expect({ expect: c.expect, strength: r.strength, conflicts: r.conflicts, ok: agrees(c.expect, r) }).toMatchObject({ ok: true });
  });
});
