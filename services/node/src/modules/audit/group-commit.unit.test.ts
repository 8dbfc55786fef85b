import { describe, expect, it } from 'vitest';

import { GroupCommit } from './group-commit.js';

/** A write that records each group it was given and holds it until released. */
function heldWrites(fail?: (items: number[]) => boolean) {
  const groups: number[][] = [];
  const pending: (() => void)[] = [];
  const commit = new GroupCommit<number, string>(
    (items) =>
      new Promise((resolve, reject) => {
        groups.push(items);
        pending.push(() => (fail?.(items) ? reject(new Error('write failed')) : resolve(items.map((i) => `ok:${i}`))));
      }),
    4,
  );
  const releaseNext = async () => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()!();
  };
  return { commit, groups, releaseNext };
}

describe('group commit', () => {
  it('writes the first item at once, and what arrives meanwhile together in the next write, each resolving with its own result', async () => {
    const { commit, groups, releaseNext } = heldWrites();
    const first = commit.submit(1);
    const later = [commit.submit(2), commit.submitAll([3, 4])];
    await releaseNext();
    expect(await first).toBe('ok:1');
    await releaseNext();
    expect(await Promise.all(later)).toEqual(['ok:2', ['ok:3', 'ok:4']]);
    expect(groups).toEqual([[1], [2, 3, 4]]);
  });

  it('never splits items submitted together: a submission that would pass the group limit waits for the next write', async () => {
    const { commit, groups, releaseNext } = heldWrites();
    const first = commit.submit(0);
    const a = commit.submitAll([1, 2, 3]);
    const b = commit.submitAll([4, 5]);
    const c = commit.submit(6);
    for (let i = 0; i < 3; i++) await releaseNext();
    await Promise.all([first, a, b, c]);
    expect(groups).toEqual([[0], [1, 2, 3], [4, 5, 6]]);
    expect(await b).toEqual(['ok:4', 'ok:5']);
    await expect(commit.submitAll([1, 2, 3, 4, 5])).rejects.toThrow(RangeError);
    await expect(commit.submitAll([])).rejects.toThrow(RangeError);
  });

  it('rejects every caller of a failed write, and only those', async () => {
    const { commit, releaseNext } = heldWrites((items) => items.includes(2));
    const first = commit.submit(1);
    const failed = [commit.submit(2), commit.submitAll([3, 4])];
    await releaseNext();
    await releaseNext();
    expect(await first).toBe('ok:1');
    for (const f of failed) await expect(f).rejects.toThrow('write failed');
    const after = commit.submit(5);
    await releaseNext();
    expect(await after).toBe('ok:5');
  });
});
