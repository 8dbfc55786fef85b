/** The audit-checkpoint keys a log is checked with: the current one, and those rotations retired. */
export interface CheckpointKeys {
  current: string;
  retired: readonly string[];
}

/** The checkpoints that count, with each one's index in the list given, and what was left out. */
export interface CountedCheckpoints {
  jws: string[];
  /** `indexes[i]` is the index of `jws[i]` in the list given. */
  indexes: number[];
  /** Under a retired key past the first checkpoint under the current key, or with no checkpoint under it at all. */
  retiredLeftOut: number;
}

/** A field of a compact JWS's header (part 0) or payload (part 1), unverified; undefined if unreadable. */
function claim(jws: string, part: 0 | 1, field: string): unknown {
  try {
    return (JSON.parse(Buffer.from(jws.split('.')[part] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>)[field];
  } catch {
    return undefined;
  }
}

function kidOf(jws: string): string | null {
  const kid = claim(jws, 0, 'kid');
  return typeof kid === 'string' ? kid : null;
}

function claimedSize(jws: string): number | null {
  const size = claim(jws, 1, 'size');
  return Number.isSafeInteger(size) && (size as number) >= 0 ? (size as number) : null;
}

/**
 * Which checkpoints are evidence, after rotations of the audit-checkpoint key. One under the current
 * key counts. One under a retired key counts only up to the smallest size any checkpoint under the
 * current key claims: the old key stopped signing at the rotation, so one past that point could only
 * have been made with an old key taken from its file, and with no checkpoint under the current key
 * none counts. (Everything up to that size is vouched for by the current key's checkpoint anyway,
 * through the hash chain; the retired ones only stop reading as failures.) One under any other key is
 * kept for `verifyChain` to refuse (`keep`: an auditor must be given every key), or left out
 * (`leave-out`: a node's own check, where it can only be junk or a key whose file was removed).
 */
export function countedCheckpoints(
  checkpoints: readonly string[],
  keys: CheckpointKeys,
  unknown: 'keep' | 'leave-out',
): CountedCheckpoints {
  const retired = new Set(keys.retired.filter((kid) => kid !== keys.current));
  // -1 without any: then no retired checkpoint counts. (A loop: a year of checkpoints is too many arguments for Math.min.)
  let bound = -1;
  for (const jws of checkpoints) {
    if (kidOf(jws) !== keys.current) continue;
    const size = claimedSize(jws) ?? 0;
    bound = bound === -1 ? size : Math.min(bound, size);
  }
  const out: CountedCheckpoints = { jws: [], indexes: [], retiredLeftOut: 0 };
  checkpoints.forEach((jws, index) => {
    // An unreadable one is always kept: verifyChain refuses it as malformed.
    const kid = kidOf(jws);
    const size = claimedSize(jws);
    if (kid !== null && retired.has(kid)) {
      if (size !== null && size > bound) {
        out.retiredLeftOut += 1;
        return;
      }
    } else if (kid !== null && kid !== keys.current && unknown === 'leave-out') {
      return;
    }
    out.jws.push(jws);
    out.indexes.push(index);
  });
  return out;
}
