/**
 * OPRF cost per linkage key (libsodium): blind + finalise at the node, evaluation at the service.
 * tests/bench/linkage-bench.ts sets it beside @noble/curves'.
 * Run: npx tsx packages/linkage/bench/oprf-bench.ts [keys=500]
 */
import { performance } from 'node:perf_hooks';

import { buildKeyInputs } from '../src/keys.js';
import { blindAll, finalizeAll } from '../src/oprf-client.js';
import { evaluateBatch, generateOprfKey } from '../src/oprf-server.js';
import { syntheticChildren } from '../src/synthetic.js';

const N = Number(process.argv[2] ?? 500);
const key = generateOprfKey('bench');

// Realistic inputs: key inputs of synthetic children, as many as needed.
const inputs: string[] = [];
for (const child of syntheticChildren(N, { seed: 1 })) {
  inputs.push(...buildKeyInputs(child, { role: 'record' }).map((k) => k.input));
  if (inputs.length >= N) break;
}
inputs.length = Math.min(inputs.length, N);

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

// Warm up the JIT and the WebAssembly module.
finalizeAll(blindAll(inputs.slice(0, 20)).state, evaluateBatch(key, blindAll(inputs.slice(0, 20)).blinded));
const warm = blindAll(inputs.slice(0, 20));
finalizeAll(warm.state, evaluateBatch(key, warm.blinded));

const [{ blinded, state }, blindMs] = time(() => blindAll(inputs));
const [evaluated, evalMs] = time(() => evaluateBatch(key, blinded));
const [, finalMs] = time(() => finalizeAll(state, evaluated));

const per = (ms: number) => (ms / inputs.length).toFixed(3);
console.log(`OPRF ristretto255-SHA512, ${inputs.length} keys, node ${process.version}`);
console.log(`  node    blind      ${per(blindMs)} ms/key`);
console.log(`  node    finalize   ${per(finalMs)} ms/key`);
console.log(`  node    blind+fin  ${per(blindMs + finalMs)} ms/key`);
console.log(`  service evaluate   ${per(evalMs)} ms/key`);
console.log(
  `  keys per subject (record, full identity) ~${buildKeyInputs(syntheticChildren(1, { seed: 2, nhsShare: 1 })[0] ?? {}, { role: 'record' }).length}`,
);
