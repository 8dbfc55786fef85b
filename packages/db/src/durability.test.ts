import { describe, expect, it } from 'vitest';

import { describeDurability, durabilityFix, isDurable, type CommitDurability } from './durability.js';

const at = (over: Partial<CommitDurability>): CommitDurability => ({
  login: 'mcx_wmp_node',
  database: '"MCX-wmp"',
  synchronousCommit: 'on',
  source: 'default',
  fsync: 'on',
  fsyncSource: 'default',
  ...over,
});

describe('commit durability: what is durable, and the fix where the setting came from', () => {
  it('on, local, remote_write and remote_apply are durable; off is not, and neither is anything with fsync off', () => {
    for (const s of ['on', 'local', 'remote_write', 'remote_apply']) expect(isDurable(at({ synchronousCommit: s }))).toBe(true);
    expect(isDurable(at({ synchronousCommit: 'off' }))).toBe(false);
    expect(isDurable(at({ fsync: 'off' }))).toBe(false);
    expect(describeDurability(at({ fsync: 'off' }))).toBe('fsync is off for the server: nothing it writes is forced to disk');
    expect(describeDurability(at({ synchronousCommit: 'remote_write' }))).toBe(
      'commits wait for their WAL flush (synchronous_commit remote_write)',
    );
  });

  it('names the statement for the place the setting came from, with identifiers as quote_ident gave them', () => {
    const off = (source: string) => at({ synchronousCommit: 'off', source });
    expect(durabilityFix(off('user'))).toMatch(/^ALTER ROLE mcx_wmp_node RESET synchronous_commit;/);
    expect(durabilityFix(off('database'))).toMatch(/^ALTER DATABASE "MCX-wmp" RESET synchronous_commit;/);
    expect(durabilityFix(off('database user'))).toMatch(/^ALTER ROLE mcx_wmp_node IN DATABASE "MCX-wmp" RESET synchronous_commit;/);
    expect(durabilityFix(off('client'))).toMatch(/^take synchronous_commit out of DATABASE_URL/);
    expect(durabilityFix(off('configuration file'))).toMatch(/^set synchronous_commit = on in postgresql\.conf/);
    expect(durabilityFix(off('global'))).toMatch(/^ALTER ROLE ALL RESET synchronous_commit;/);
    expect(durabilityFix(off('command line'))).toMatch(/^take -c synchronous_commit=off out of the server's start command/);
    expect(describeDurability(off('command line'))).toBe("synchronous_commit is off (set by the server's start command)");
    expect(durabilityFix(at({ fsync: 'off', fsyncSource: 'command line' }))).toMatch(
      /^take -c fsync=off out of the server's start command/,
    );
    expect(describeDurability(off('database user'))).toBe('synchronous_commit is off (set by the login in this database)');
    expect(durabilityFix(at({ fsync: 'off', synchronousCommit: 'off', source: 'user' }))).toMatch(/^set fsync = on/);
  });
});
