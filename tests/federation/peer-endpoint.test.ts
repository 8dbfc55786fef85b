/**
 * What a member's peer endpoint refuses before it discloses anything: replayed, misaddressed or
 * mismatched node tokens, strangers, operations off the allow-list, malformed requests, and a
 * peer operation sent to /graphql. One real node (GMP) receives; WMP and MPS are members by
 * their keys, and WMP's key signs the requests.
 */
import { request } from 'node:http';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_HISTORY, PEER_OPERATIONS, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { generateSigningKey, signNodeToken } from '@mcx/signing';

import { startFederation, type TestFederation } from '../testkit/federation.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import { readHeaders, type TestNode } from '../testkit/node.js';

const FORCES = ['WMP', 'GMP', 'MPS'] as const;
type Force = (typeof FORCES)[number];

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation(FORCES, { start: ['GMP'], capabilities: PEER_OPERATIONS.map((op) => op.name) }));
}, 120_000);

afterAll(() => close?.());

describe('the receiving end refuses', () => {
  const variables = { keys: [{ kind: 'nhs', strength: 'strong', keyVersion: 'k1', key: 'A'.repeat(43) }] };
  const claims = (hash: string) => ({
    act: { sub: 'inv-1', iss: 'https://login.example/wmp', org: 'WMP', org_kind: 'police', role: 'investigator' },
    purpose: 'MISSING_LIVE_SEARCH',
    case_ref: 'WMP-26-1',
    caller_entry: 'WMP:1',
    req_hash: hash,
  });
  async function post(to: Force, token: string, body: unknown) {
    const res = await fetch(new URL(PEER_PATH, nodes[to].node.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string }; data?: unknown; receipt?: string } };
  }
  const body = { id: PEER_HISTORY.hash, variables };
  const good = (aud = peerAudience('GMP'), extra: Record<string, unknown> = {}) =>
    signNodeToken(
      { iss: 'WMP', aud, ttlSec: 30, claims: { ...claims(requestHash(PEER_HISTORY.hash, variables)), ...extra } },
      fed.keys.WMP!.peerToken,
    );

  it('answers a well-formed request with signed records and a receipt', async () => {
    const r = await post('GMP', good(), body);
    expect(r.status).toBe(200);
    expect(typeof r.body.receipt).toBe('string');
  });

  it('a replayed token', async () => {
    const token = good();
    expect((await post('GMP', token, body)).status).toBe(200);
    expect(await post('GMP', token, body)).toEqual({
      status: 401,
      body: { error: expect.objectContaining({ code: 'NODE_TOKEN_REPLAYED' }) },
    });
  });

  it('a history token sent again, at once and later, is answered once and its disclosure audited once', async () => {
    // Six at once, then one more: one answer, and one disclosure entry naming the caller's entry.
    // Nothing is written for a replay.
    const callerEntry = `WMP:${Date.now()}`;
    const token = signNodeToken(
      {
        iss: 'WMP',
        aud: peerAudience('GMP'),
        ttlSec: 30,
        claims: { ...claims(requestHash(PEER_HISTORY.hash, variables)), caller_entry: callerEntry },
      },
      fed.keys.WMP!.peerToken,
    );
    const replies = await Promise.all(Array.from({ length: 6 }, () => post('GMP', token, body)));
    replies.push(await post('GMP', token, body));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 401 && r.body.error?.code === 'NODE_TOKEN_REPLAYED')).toHaveLength(6);
    expect(replies.filter((r) => 'data' in r.body || 'receipt' in r.body)).toHaveLength(1);
    const sql = postgres(nodes.GMP.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<
        { action: string }[]
      >`select entry->>'action' as action from audit_entries where entry->>'peerEntryId' = ${callerEntry}`;
      expect(rows.map((r) => r.action)).toEqual(['disclosure']);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('a token that expires while its body is still coming: valid at the header, refused once the body is read', async () => {
    // The node's leeway is 5 s (app.ts): this token is still good for 1.5 s when its header arrives.
    const leewaySec = 5;
    const issuedAt = new Date(Date.now() - (30 + leewaySec - 1.5) * 1000);
    const token = signNodeToken(
      { iss: 'WMP', aud: peerAudience('GMP'), ttlSec: 30, claims: claims(requestHash(PEER_HISTORY.hash, variables)) },
      fed.keys.WMP!.peerToken,
      issuedAt,
    );
    const text = JSON.stringify(body);
    const answer = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      const req = request(new URL(PEER_PATH, nodes.GMP.node.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(text)),
          authorization: `Bearer ${token}`,
        },
      });
      req.on('response', (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(data) as { error: { code: string } }).error.code }));
      });
      req.on('error', reject);
      req.flushHeaders();
      setTimeout(() => req.end(text), 2500);
    });
    expect(answer).toEqual({ status: 401, code: 'NODE_TOKEN_EXPIRED' });
    // The same token sent whole at once is refused at its header.
    expect((await post('GMP', token, body)).body.error?.code).toBe('NODE_TOKEN_EXPIRED');
  });

  it('a token for another member', async () => {
    expect(await post('GMP', good(peerAudience('MPS')), body)).toEqual({
      status: 401,
      body: { error: expect.objectContaining({ code: 'NODE_TOKEN_WRONG_AUDIENCE' }) },
    });
  });

  it('a token whose request hash does not match the request', async () => {
    const other = { id: PEER_HISTORY.hash, variables: { keys: [{ ...variables.keys[0]!, key: 'B'.repeat(43) }] } };
    expect(await post('GMP', good(), other)).toEqual({
      status: 401,
      body: { error: expect.objectContaining({ code: 'NODE_TOKEN_REQUEST_MISMATCH' }) },
    });
  });

  it('a caller that is not a member', async () => {
    const stranger = generateSigningKey('peer-token');
    const token = signNodeToken(
      { iss: 'XYZ', aud: peerAudience('GMP'), ttlSec: 30, claims: claims(requestHash(PEER_HISTORY.hash, variables)) },
      stranger,
    );
    const r = await post('GMP', token, body);
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toMatch(/^NODE_TOKEN_(NOT_MEMBER|UNKNOWN_KEY)$/);
    // A member's own key cannot speak for another member either: the force comes from iss, checked against the key.
    const spoof = signNodeToken(
      { iss: 'MPS', aud: peerAudience('GMP'), ttlSec: 30, claims: claims(requestHash(PEER_HISTORY.hash, variables)) },
      fed.keys.WMP!.peerToken,
    );
    expect((await post('GMP', spoof, body)).body.error?.code).toBe('NODE_TOKEN_NOT_MEMBER');
  });

  it('an operation that is not on the allow-list, and a user token in place of a node token', async () => {
    const id = 'f'.repeat(64);
    const token = signNodeToken(
      { iss: 'WMP', aud: peerAudience('GMP'), ttlSec: 30, claims: claims(requestHash(id, variables)) },
      fed.keys.WMP!.peerToken,
    );
    expect((await post('GMP', token, { id, variables })).body.error?.code).toBe('OPERATION_NOT_ALLOWED');
    const user = await nodes.GMP.issuer.mintToken({
      role: 'investigator',
      force: 'GMP',
      orgKind: 'police',
      subject: 'u',
      kind: 'user',
      ttlSec: 60,
    });
    expect((await post('GMP', user, body)).status).toBe(401);
  });

  it('malformed and oversized requests get a clear code, and nothing is disclosed', async () => {
    const tooMany = {
      id: PEER_HISTORY.hash,
      variables: {
        keys: Array.from({ length: 65 }, (_, i) => ({ ...variables.keys[0]!, key: `${'A'.repeat(40)}${String(i).padStart(3, '0')}` })),
      },
    };
    const token = signNodeToken(
      { iss: 'WMP', aud: peerAudience('GMP'), ttlSec: 30, claims: claims(requestHash(PEER_HISTORY.hash, tooMany.variables)) },
      fed.keys.WMP!.peerToken,
    );
    expect(await post('GMP', token, tooMany)).toEqual({
      status: 400,
      body: { error: expect.objectContaining({ code: 'BAD_USER_INPUT' }) },
    });
    expect((await post('GMP', good(), { id: 'not-a-hash', variables })).body.error?.code).toBe('BAD_REQUEST');
    // Pointers are asked for by associate id; anything else is refused before a record is read.
    const pointers = PEER_OPERATIONS.find((op) => op.name === 'mcx.pointers/1')!;
    const badIds = { ids: ['../../etc'], exclude: [] };
    const pointerToken = signNodeToken(
      { iss: 'WMP', aud: peerAudience('GMP'), ttlSec: 30, claims: claims(requestHash(pointers.hash, badIds)) },
      fed.keys.WMP!.peerToken,
    );
    expect(await post('GMP', pointerToken, { id: pointers.hash, variables: badIds })).toEqual({
      status: 400,
      body: { error: expect.objectContaining({ code: 'BAD_USER_INPUT' }) },
    });
    const res = await fetch(new URL(PEER_PATH, nodes.GMP.node.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${good()}` },
      body: 'x'.repeat(5 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
  });

  it('a member claiming a kind of requester it cannot speak for, or no case reference', async () => {
    expect((await post('GMP', good(peerAudience('GMP'), { case_ref: undefined }), body)).body.error?.code).toBe('PEER_CLAIMS_INVALID');
  });

  it('peerHistory is not reachable on /graphql, even for an investigator', async () => {
    const res = await fetch(new URL('/graphql', nodes.GMP.node.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await nodes.GMP.issuer.mintToken({ role: 'investigator', force: 'GMP', orgKind: 'police', subject: 'u', kind: 'user', ttlSec: 60 })}`,
        ...readHeaders('GMP'),
      },
      body: JSON.stringify({ query: PEER_HISTORY.document, variables }),
    });
    await expectGraphQLError(res.json(), 'FORBIDDEN', 'PEER_ONLY');
  });
});
