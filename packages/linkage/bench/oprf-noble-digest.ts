/**
 * Recompute, with @noble/curves' ristretto255_oprf alone, the digest of the outputs of the
 * equivalence cases that src/oprf-equivalence.test.ts holds as NOBLE_DIGEST_10000. @noble/curves
 * takes 2.5 to 13 ms a case on one core (idle to busy), too slow to run all 10,000 in the test.
 * Run: npx tsx packages/linkage/bench/oprf-noble-digest.ts [count=10000]
 */
import { nobleEvaluate, oprfCases, outputsDigest } from './oprf-cases.js';

const count = Number(process.argv[2] ?? 10_000);
const t0 = performance.now();
const outputs = oprfCases(count).map((c) => nobleEvaluate(c.key, c.input));
console.log(`@noble/curves ristretto255_oprf, ${count} cases, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(outputsDigest(outputs));
