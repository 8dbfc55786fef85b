/**
 * The node's /metrics (services/node/src/metrics/): a real node with MCX_METRICS_PORT, a real
 * linkage service, and a member (GMP) named in the manifest whose node is not running. Reads move
 * the series; no label value ever holds what a caller sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devAudience } from '@mcx/auth';
import { ChildHistoryDocument, PublishSubjectDocument } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';

import { episodeInput, localEpisodes, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import { postGraphQL } from '../testkit/graphql.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';

/** Synthetic: no such person. */
const CHILD = { forename: 'Quillon', surname: 'Vexmarsh', dob: '2011-04-17', sex: 'MALE' as const, nhsNumber: '9990001456' };
const CALLER_INPUT = 'Zebedee_Ottoline_Farraday';

let fed: TestFederation;
let wmp: TestNode;

async function scrape(): Promise<string> {
  const res = await fetch(wmp.node.metricsUrl!);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one series, or undefined when it is absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Every label value in the exposition. */
function labelValues(text: string): string[] {
  return [...text.matchAll(/\w+="([^"]*)"/g)].map((m) => m[1]!);
}

beforeAll(async () => {
  const ports = { WMP: await freePort(), GMP: await freePort() };
  fed = await createFederation(['WMP', 'GMP'], {
    endpoints: { WMP: `http://127.0.0.1:${ports.WMP}`, GMP: `http://127.0.0.1:${ports.GMP}` },
    capabilities: PEER_OPERATIONS.map((op) => op.name),
  });
  // GMP is named in the manifest but its node is stopped: nothing listens on its port.
  wmp = await startTestNode({
    force: 'WMP',
    keys: fed.keys.WMP!,
    env: { ...fed.nodeEnv('WMP'), PORT: String(ports.WMP), MCX_METRICS_PORT: '0', MCX_PEER_BREAKER_FAILURES: '1' },
  });
}, 60_000);

afterAll(async () => {
  await wmp?.close();
  await fed?.close();
});

describe('GET /metrics', () => {
  it('is off the API port, and answers nothing but /metrics', async () => {
    expect(wmp.node.metricsUrl).not.toBeNull();
    expect(new URL(wmp.node.metricsUrl!).port).not.toBe(new URL(wmp.node.url).port);
    expect((await fetch(new URL('/graphql', wmp.node.metricsUrl!))).status).toBe(404);
    expect((await fetch(`${wmp.node.url}/metrics`)).status).toBe(404);
  });

  it('moves with reads, a federated read with a stopped member, writes and linkage calls', async () => {
    const before = await scrape();
    const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
    const { publishSubject } = await wmp.client.request(PublishSubjectDocument, {
      input: { subjectRef: 'SUBJ-MET-1', reviewAt, identity: CHILD },
    });
    expect(publishSubject.errors).toEqual([]);
    expect((await publishEpisode(wmp.client, episodeInput({ subjectRef: 'SUBJ-MET-1' }))).errors).toEqual([]);
    await localEpisodes(wmp.investigator);
    await localEpisodes(wmp.investigator);
    const { childHistory } = await wmp.investigator.request(ChildHistoryDocument, { identity: CHILD });
    expect(childHistory.federation.members.find((m) => m.member === 'GMP')?.status).not.toBe('ANSWERED');
    const after = await scrape();

    const ops = (operation: string, text: string) =>
      value(text, 'mcx_graphql_requests_total', { surface: 'graphql', operation, outcome: 'ok' }) ?? 0;
    expect(ops('localEpisodes', after) - ops('localEpisodes', before)).toBe(2);
    expect(ops('childHistory', after) - ops('childHistory', before)).toBe(1);
    expect(ops('publishSubject', after) - ops('publishSubject', before)).toBe(1);
    expect(
      value(after, 'mcx_graphql_request_duration_seconds_count', { surface: 'graphql', operation: 'localEpisodes' }),
    ).toBeGreaterThanOrEqual(2);
    // The stopped member: refused connections, then its breaker (opens after one failure here).
    expect(value(after, 'mcx_peer_requests_total', { member: 'GMP', status: 'unavailable' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'mcx_peer_breaker_state', { member: 'GMP', state: 'open' })).toBe(1);
    expect(value(after, 'mcx_peer_breaker_state', { member: 'GMP', state: 'closed' })).toBe(0);
    // The admission gate: the history has ended and given its turn back; one read at a time never shrinks the turns.
    expect(value(after, 'mcx_federation_admission', { state: 'in_flight' })).toBe(0);
    expect(value(after, 'mcx_federation_admission', { state: 'waiting' })).toBe(0);
    expect(value(after, 'mcx_federation_admission', { state: 'turns' })).toBe(8);
    // Audit appends (the writes' and the reads'), linkage calls (publish and the history's match).
    const appends = (t: string) => value(t, 'mcx_audit_append_duration_seconds_count') ?? 0;
    expect(appends(after) - appends(before)).toBeGreaterThanOrEqual(4);
    const linkage = (t: string) => value(t, 'mcx_linkage_calls_total', { outcome: 'ok' }) ?? 0;
    expect(linkage(after) - linkage(before)).toBeGreaterThanOrEqual(2);
    expect(value(after, 'mcx_integrity_state', { component: 'records', state: 'ok' })).toBe(1);
    expect(value(after, 'mcx_integrity_state', { component: 'audit_chain', state: 'ok' })).toBe(1);
    expect(value(after, 'mcx_db_pool_max')).toBe(wmp.config.dbPoolMax);
    expect(value(after, 'mcx_db_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
    // The alert outbox exists in this schema: its depth is a number.
    expect(Number.isFinite(value(after, 'mcx_alert_outbox_depth'))).toBe(true);
  });

  it('says how old the latest audit checkpoint is', async () => {
    await wmp.node.app.services.audit.checkpoint();
    const age = value(await scrape(), 'mcx_audit_checkpoint_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
  });

  it('never takes a label value from the caller: operation names, unknown fields, headers', async () => {
    const token = await wmp.issuer.mintToken({
      roles: ['investigator'],
      force: 'WMP',
      orgKind: 'police',
      subject: 'test-investigator',
      kind: 'user',
      ttlSec: 600,
      audience: devAudience('WMP'),
    });
    const auth = `Bearer ${token}`;
    const headers = { ...readHeaders('WMP'), 'x-request-id': CALLER_INPUT };
    const before = await scrape();
    const named = await postGraphQL(wmp.node.url, auth, `query ${CALLER_INPUT} { localEpisodes(first: 1) { nodes { id } } }`, {}, headers);
    expect(named.status).toBe(200);
    expect(named.body.errors).toBeUndefined();
    const unknown = await postGraphQL(wmp.node.url, auth, `query ${CALLER_INPUT} { ${CALLER_INPUT} }`, {}, headers);
    expect(unknown.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const after = await scrape();
    expect(after).not.toContain(CALLER_INPUT);
    expect(labelValues(after).some((v) => v.includes('Zebedee'))).toBe(false);
    // The named query counts under its root field; the unknown field under `other`.
    const ok = (t: string) =>
      value(t, 'mcx_graphql_requests_total', { surface: 'graphql', operation: 'localEpisodes', outcome: 'ok' }) ?? 0;
    expect(ok(after) - ok(before)).toBe(1);
    const other = (t: string) => value(t, 'mcx_graphql_requests_total', { surface: 'graphql', operation: 'other', outcome: 'error' }) ?? 0;
    expect(other(after) - other(before)).toBe(1);
  });
});
