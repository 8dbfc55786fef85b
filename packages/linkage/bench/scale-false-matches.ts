// How many children does a query wrongly match when 20,000 are held? The OPRF is a
// deterministic function of its input, so comparing the key inputs gives the same matches
// as comparing OPRF outputs. Queries are the same children as another force might record
// them; any match with a different child is false.
//   npx tsx packages/linkage/bench/scale-false-matches.ts [children] [seed]
import { buildKeyInputs } from '../src/keys.js';
import { matchKeys, type ComparableKey } from '../src/match.js';
import { createSeededRng, perturbChild, syntheticChildren, type Perturbation } from '../src/synthetic.js';

const N = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? 20261122);
const children = syntheticChildren(N, { seed, referenceDate: '2026-11-22', nhsShare: 0.3 });
const rng = createSeededRng(seed + 1);
const held = children.map((c) =>
  buildKeyInputs(c, { role: 'record' }).map((k): ComparableKey => ({ kind: k.kind, strength: k.strength, key: k.input })),
);
const index = new Map<string, number[]>();
held.forEach((keys, i) => {
  for (const k of keys) index.set(k.key, [...(index.get(k.key) ?? []), i]);
});

const HOW: (Perturbation | 'exact')[] = ['exact', 'case', 'nickname', 'typo', 'surname_change', 'dob_swap', 'name_swap', 'no_dob'];
let falsePossible = 0;
let falseStrong = 0;
let found = 0;
let queriesWithFalse = 0;
const started = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const how = HOW[i % HOW.length]!;
  const q = how === 'exact' ? children[i]! : perturbChild(children[i]!, how, rng);
  const qk = buildKeyInputs(q, { role: 'query' }).map((k): ComparableKey => ({
    kind: k.kind,
    strength: k.strength,
    key: k.input,
    variant: k.variant,
  }));
  const candidates = new Set(qk.flatMap((k) => index.get(k.key) ?? []));
  let wrong = 0;
  for (const j of candidates) {
    const r = matchKeys(qk, held[j]!);
    if (r.strength === 'none') continue;
    if (j === i) found++;
    else {
      wrong++;
      if (r.strength === 'strong') falseStrong++;
      else falsePossible++;
    }
  }
  if (wrong > 0) queriesWithFalse++;
}
const s = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`${N} synthetic children held; ${N} queries (exact and ${HOW.length - 1} kinds of re-recording, in turn), ${s.toFixed(1)} s`);
console.log(`  recall:                        ${(found / N).toFixed(4)}`);
console.log(
  `  false possible matches/query:  ${(falsePossible / N).toFixed(4)}  (${falsePossible} in all; ${queriesWithFalse} queries had any)`,
);
console.log(`  false strong matches:          ${falseStrong}`);
