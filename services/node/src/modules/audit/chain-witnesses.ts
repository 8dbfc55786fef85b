/** The first bad seq found, why (a `verifyChain` reason or one of the node's own), and for a column its name. */
export interface ChainBreak {
  seq: number;
  reason: string;
  column?: string;
}

/**
 * The lowest witness (an entry this process appended and saw commit, seq to hash) whose row no
 * longer has the hash it was committed with, among `hashes` (seq to hash as stored now).
 */
export function changedWitness(witnesses: ReadonlyMap<number, string>, hashes: ReadonlyMap<number, string>): ChainBreak | null {
  let bad: ChainBreak | null = null;
  for (const [seq, hash] of witnesses) {
    if (hashes.get(seq) !== hash && (bad === null || seq < bad.seq)) bad = { seq, reason: 'APPENDED_ENTRY_CHANGED' };
  }
  return bad;
}
