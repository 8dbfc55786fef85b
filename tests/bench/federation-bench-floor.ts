// The floor a federated read's CPU is compared with in tests/bench/federation-bench.ts: its parts
// (a member answering, node tokens, signature checks, audit commits) microbenchmarked in the same run.

import type { Viewer } from '@mcx/auth';
import { createFanOut, PEER_HISTORY, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { signNodeToken, verifyNodeToken, verifyReceipt, verifyRecord } from '@mcx/signing';

import { CALLER, CHILD, type BenchFederation } from './federation-bench-nodes.js';
import { cpuSince, type BenchServer } from './federation-bench-support.js';

export interface FloorParts {
  /** (a) whole peer request, node-process CPU ms; and PostgreSQL CPU ms. */
  peerCpu: number;
  peerPg: number | null;
  peerWall: number;
  recordsPerAnswer: number;
  /** (b) µs. */
  signUs: number;
  verifyUs: number;
  /** (c) µs. */
  recordVerifyUs: number;
  receiptVerifyUs: number;
  /** (d) ms per durable commit. */
  commitCpu: number;
  commitPg: number | null;
  commitWall: number;
  /** Outside the floor: linkage keys for the identity (OPRF round trip), ms, and how many keys. */
  linkageCpu: number;
  linkageKeys: number;
}

/** Direct POST /peer/v1 requests from the caller to one member, through the caller's kind of fan-out client, with fresh node tokens. */
export async function directPeer(f: BenchFederation, peerCode: string) {
  const caller = f.nodes[CALLER]!.node;
  const peer = f.nodes[peerCode]!.node;
  const callerKey = f.fed.keys[CALLER]!.peerToken;
  const derived = await caller.app.services.subjects.queryKeys(CHILD);
  if ('errors' in derived) throw new Error('the synthetic identity was refused');
  const variables = {
    keys: derived.keys.map((k) => ({
      kind: k.kind,
      strength: k.strength,
      keyVersion: k.keyVersion,
      key: k.key,
      ...(k.variant ? { variant: k.variant } : {}),
    })),
  };
  const hash = requestHash(PEER_HISTORY.hash, variables);
  const body = JSON.stringify({ id: PEER_HISTORY.hash, variables });
  const claims = {
    act: { sub: 'bench-investigator', iss: 'https://login.example/wmp', org: CALLER, org_kind: 'police', role: 'investigator' },
    purpose: 'MISSING_LIVE_SEARCH',
    case_ref: 'WMP-26-1001',
    caller_entry: `${CALLER}:1`,
    req_hash: hash,
  };
  const token = (aud = peerAudience(peerCode)) => signNodeToken({ iss: CALLER, aud, ttlSec: 30, claims }, callerKey);
  const fanOut = createFanOut({
    perPeerTimeoutMs: 5000,
    overallDeadlineMs: 5000,
    maxResponseBytes: 4 << 20,
    breaker: { consecutiveFailures: 1000, halfOpenAfterMs: 1000 },
  });
  const url = new URL(PEER_PATH, peer.url).toString();
  const post = async (jwt: string) => {
    const [r] = await fanOut.call([{ member: peerCode, url, headers: { authorization: `Bearer ${jwt}` }, body }]);
    if (r!.status !== 'answered') throw new Error(`direct peer request: ${r!.status} ${r!.reason ?? ''}`);
    return r!.body as { data: { peerHistory: { records: { bytes: string; signature: string }[] } }; receipt: string };
  };
  return { derived, token, post, close: () => fanOut.close() };
}

export async function measureParts(server: BenchServer, f: BenchFederation): Promise<FloorParts> {
  const caller = f.nodes[CALLER]!.node;
  const peerCode = 'GMP';
  const peer = f.nodes[peerCode]!.node;
  const callerHolder = caller.app.trust!.holder;
  const peerHolder = peer.app.trust!.holder;
  // (a) One member's answer, through the caller's own kind of fan-out client.
  const { derived, token, post, close } = await directPeer(f, peerCode);
  for (let i = 0; i < 60; i++) await post(token()); // warm-up
  const sample = await post(token());
  const records = sample.data.peerHistory.records;
  const A = 200;
  let peerCpu = 0;
  let peerPg: number | null = 0;
  let peerWall = 0;
  for (let round = 0; round < 2; round++) {
    const tokens = Array.from({ length: A / 2 }, () => token()); // signed before the clock starts
    const cpu0 = process.cpuUsage();
    const pg0 = server.cpuMs();
    const t0 = performance.now();
    for (const t of tokens) await post(t);
    peerWall += performance.now() - t0;
    peerCpu += cpuSince(cpu0);
    const pg1 = server.cpuMs();
    peerPg = peerPg !== null && pg0 !== null && pg1 !== null ? peerPg + pg1 - pg0 : null;
  }
  await close();

  // (b) Node token sign and verify, (c) record and receipt verification: tight loops.
  const micro = (n: number, fn: (i: number) => unknown): number => {
    for (let i = 0; i < Math.min(200, n); i++) fn(i);
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn(i);
    return (cpuSince(t0) * 1000) / n;
  };
  const signUs = micro(3000, () => token());
  const signed = Array.from({ length: 3000 }, () => token());
  const verifyOpts = { audience: peerAudience(peerCode) };
  const verifyUs = micro(3000, (i) => verifyNodeToken(signed[i % signed.length]!, peerHolder, verifyOpts));
  const recordResolver = callerHolder.keyResolver('record');
  for (const r of records) if (!verifyRecord(r.bytes, r.signature, recordResolver).valid) throw new Error('a sample record did not verify');
  const recordVerifyUs = micro(3000, (i) =>
    verifyRecord(records[i % records.length]!.bytes, records[i % records.length]!.signature, recordResolver),
  );
  const receiptResolver = callerHolder.keyResolver('audit-checkpoint');
  const receiptVerifyUs = micro(3000, () => verifyReceipt(sample.receipt, receiptResolver));

  // (d) Durable audit commits through the caller's AuditService, one at a time (as in a query).
  const audit = caller.app.services.audit;
  const viewer: Viewer = {
    subject: 'bench-investigator',
    issuer: 'bench',
    force: CALLER,
    orgKind: 'police',
    roles: ['investigator'],
    tokenKind: 'user',
  };
  const event = {
    action: 'consultation' as const,
    viewer,
    requestingNode: CALLER,
    purpose: 'MISSING_LIVE_SEARCH',
    caseRef: 'WMP-26-1001',
    linkageDigest: caller.app.services.subjects.digest(derived.keys),
    operation: 'federationBenchCommit',
    queryIds: [],
    recordIds: [],
    outcome: 'success' as const,
  };
  for (let i = 0; i < 20; i++) await audit.record(event);
  const D = 200;
  const dCpu0 = process.cpuUsage();
  const dPg0 = server.cpuMs();
  const dT0 = performance.now();
  for (let i = 0; i < D; i++) await audit.record(event);
  const commitWall = (performance.now() - dT0) / D;
  const commitCpu = cpuSince(dCpu0) / D;
  const dPg1 = server.cpuMs();
  const commitPg = dPg0 !== null && dPg1 !== null ? (dPg1 - dPg0) / D : null;

  // Outside the floor: the caller's linkage keys for the identity (a round trip to the in-process linkage service).
  for (let i = 0; i < 10; i++) await caller.app.services.subjects.queryKeys(CHILD);
  const L = 100;
  const lCpu0 = process.cpuUsage();
  for (let i = 0; i < L; i++) await caller.app.services.subjects.queryKeys(CHILD);
  const linkageCpu = cpuSince(lCpu0) / L;

  return {
    peerCpu: peerCpu / A,
    peerPg: peerPg === null ? null : peerPg / A,
    peerWall: peerWall / A,
    recordsPerAnswer: records.length,
    signUs,
    verifyUs,
    recordVerifyUs,
    receiptVerifyUs,
    commitCpu,
    commitPg,
    commitWall,
    linkageCpu,
    linkageKeys: derived.keys.length,
  };
}

/**
 * The floor for a federation of `members`, and its breakdown (ms per query): (a) to (d) for the
 * members, and (e) the identity's linkage keys, which issue 20 counts in the floor ("the OPRF keys
 * now included"); `withoutKeys` is the floor as earlier runs printed it, for comparison.
 */
export function floorFor(p: FloorParts, members: number) {
  const ms = (us: number) => us / 1000;
  const a = members * (p.peerCpu - ms(p.verifyUs) - p.commitCpu);
  const b = members * ms(p.signUs + p.verifyUs);
  const c = members * ms(p.recordsPerAnswer * p.recordVerifyUs + p.receiptVerifyUs);
  const d = (2 + members) * p.commitCpu;
  const pg = p.peerPg !== null && p.commitPg !== null ? members * p.peerPg + 2 * p.commitPg : null;
  const e = p.linkageCpu;
  return { a, b, c, d, e, total: a + b + c + d + e, withoutKeys: a + b + c + d, pg };
}
