import { request } from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import { blindAll, createHttpEvaluator, createInProcessEvaluator, deriveLinkageKeys, finalizeAll, oprfOffThread } from '@mcx/linkage';
import { signNodeToken, type SigningKey } from '@mcx/signing';

import { MAX_BODY_BYTES } from './http.js';
import { startTestApp } from './testkit-db.js';
import { OPRF_K1, OPRF_K2, T0, TEST_KEYS } from './testkit.js';

const child = { forename: 'Olivia', surname: 'Hart', dob: '2009-04-02', sex: 'F' as const, nhsNumber: '9990000026' };
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const running: Array<() => Promise<void>> = [];

async function start(config: Parameters<typeof startTestApp>[0] = {}) {
  const app = await startTestApp(config);
  running.push(app.close);
  const token = (iss: string, key: SigningKey<'peer-token'>, opts: { aud?: string; at?: Date; ttlSec?: number } = {}) =>
    signNodeToken({ iss, aud: opts.aud ?? 'mcx-linkage', ttlSec: opts.ttlSec ?? 30 }, key, opts.at ?? app.clock.now());
  const post = async (body: unknown, auth: string | null = token('WMP', TEST_KEYS.wmpPeer)) => {
    const res = await fetch(`${app.url}/v1/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth === null ? {} : { authorization: `Bearer ${auth}` }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Record<string, any> };
  };
  const calls = () => app.log.lines.filter((l) => l.event === 'linkage.evaluate');
  return { ...app, token, post, calls };
}

/** Streams a body over 64 KiB with no content-length, so only the byte count can catch it. */
function chunkedUpload(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/evaluate`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.write('{"blinded":["');
    for (let i = 0; i < 20; i++) req.write('x'.repeat(4096));
    req.end('"]}');
  });
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((close) => close()));
});

describe('linkage service: evaluation', () => {
  it('gives a member the same linkage keys as an in-process evaluator with the same key', async () => {
    const app = await start();
    const evaluator = createHttpEvaluator({ url: app.url, member: 'WMP', peerTokenKey: TEST_KEYS.wmpPeer, now: app.clock.now });
    const overHttp = await deriveLinkageKeys(child, evaluator, { role: 'record', now: T0 });
    const inProcess = await deriveLinkageKeys(child, createInProcessEvaluator(OPRF_K2), { role: 'record', now: T0 });
    expect(overHttp.length).toBeGreaterThan(3);
    expect(overHttp).toEqual(inProcess);
    expect(app.calls()).toEqual([
      expect.objectContaining({ member: 'WMP', count: overHttp.length, keyVersion: 'k2', outcome: 'evaluated', at: T0.toISOString() }),
    ]);
  });

  it('selects the older key by keyVersion during a changeover', async () => {
    const app = await start();
    const older = createHttpEvaluator({
      url: app.url,
      member: 'GMP',
      peerTokenKey: TEST_KEYS.gmpPeer,
      keyVersion: 'k1',
      now: app.clock.now,
    });
    const keys = await deriveLinkageKeys(child, older, { role: 'query', now: T0 });
    expect(keys).toEqual(await deriveLinkageKeys(child, createInProcessEvaluator(OPRF_K1), { role: 'query', now: T0 }));
    expect(keys.every((k) => k.keyVersion === 'k1')).toBe(true);
    const { blinded } = blindAll(['x']);
    const unknown = await app.post({ keyVersion: 'k0', blinded: blinded.map(b64) });
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'UNKNOWN_KEY_VERSION']);
  });

  it('logs who asked for how many keys, and never an element', async () => {
    const app = await start();
    const { blinded, state } = blindAll(['v1|name_dob|olivia|hart|2009-04-02', 'v1|nhs|9990000026']);
    const ok = await app.post({ blinded: blinded.map(b64) });
    expect(ok.status).toBe(200);
    const evaluated = (ok.json.evaluated as string[]).map((e) => new Uint8Array(Buffer.from(e, 'base64url')));
    expect(finalizeAll(state, evaluated)).toHaveLength(2);
    const line = app.calls()[0]!;
    expect(Object.keys(line)).toEqual(expect.arrayContaining(['member', 'count', 'keyVersion', 'outcome', 'at']));
    const everything = app.log.raw.join('\n');
    for (const element of [...blinded.map(b64), ...(ok.json.evaluated as string[])]) expect(everything).not.toContain(element);
    expect(everything).not.toMatch(/olivia|9990000026/i);
  });

  it('serves /healthz and /v1/keys without key material', async () => {
    const app = await start();
    const health = await fetch(`${app.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', manifest: { version: 5, status: 'valid' }, activeKeyVersion: 'k2' });
    const keys = await fetch(`${app.url}/v1/keys`);
    const text = await keys.text();
    expect(JSON.parse(text)).toEqual({
      active: 'k2',
      versions: [
        { version: 'k1', active: false },
        { version: 'k2', active: true },
      ],
    });
    expect(text).not.toContain(OPRF_K1.key);
    expect(text).not.toContain(OPRF_K2.key);
    expect((await fetch(`${app.url}/v1/evaluate`)).status).toBe(405);
    expect((await fetch(`${app.url}/nope`)).status).toBe(404);
  });
});

describe('linkage service: refusals', () => {
  it('refuses bad node tokens with 401 and their codes', async () => {
    const app = await start();
    const body = { blinded: blindAll(['x']).blinded.map(b64) };
    const past = new Date(T0.getTime() - 120_000);
    const replayed = app.token('WMP', TEST_KEYS.wmpPeer);
    expect((await app.post(body, replayed)).status).toBe(200);
    const cases: Array<[string, string | null, string]> = [
      ['no token', null, 'NODE_TOKEN_MISSING'],
      ['not a member', app.token('NPT', TEST_KEYS.stranger), 'NODE_TOKEN_UNKNOWN_KEY'],
      ['another audience', app.token('WMP', TEST_KEYS.wmpPeer, { aud: 'mcx-node-gmp' }), 'NODE_TOKEN_WRONG_AUDIENCE'],
      ['expired', app.token('WMP', TEST_KEYS.wmpPeer, { at: past }), 'NODE_TOKEN_EXPIRED'],
      ["GMP's key naming WMP", app.token('WMP', TEST_KEYS.gmpPeer), 'NODE_TOKEN_NOT_MEMBER'],
      ['replayed', replayed, 'NODE_TOKEN_REPLAYED'],
      ['garbage', 'abc.def.ghi', 'NODE_TOKEN_MALFORMED'],
    ];
    for (const [name, auth, code] of cases) {
      const res = await app.post(body, auth);
      expect([name, res.status, res.json.error.code]).toEqual([name, 401, code]);
    }
    const refused = app.calls().filter((l) => l.outcome === 'refused');
    expect(refused).toHaveLength(cases.length);
    expect(refused.every((l) => l.member === null && l.status === 401)).toBe(true);
  });

  it('refuses bad bodies with 400 and 413, never echoing them', async () => {
    const app = await start({ maxBatch: 4 });
    const { blinded } = blindAll(['a', 'b', 'c', 'd', 'e']);
    const notAPoint = b64(new Uint8Array(32).fill(0xff));
    const cases: Array<[unknown, number, string]> = [
      [{ blinded: blinded.map(b64) }, 400, 'BATCH_TOO_LARGE'],
      [{ blinded: ['secret-garbage-value'] }, 400, 'BLINDED_INVALID'],
      [{ blinded: [b64(blinded[0]!), notAPoint] }, 400, 'BLINDED_INVALID'],
      [{ blinded: [b64(new Uint8Array(32))] }, 400, 'BLINDED_INVALID'],
      [{ blinded: [42] }, 400, 'BLINDED_INVALID'],
      [{ blinded: [] }, 400, 'BAD_REQUEST'],
      [{ blinded: 'x', extra: 'secret-garbage-value' }, 400, 'BAD_REQUEST'],
      [{ keyVersion: 'secret garbage value', blinded: [b64(blinded[0]!)] }, 400, 'BAD_REQUEST'],
      ['{"blinded": [secret-garbage-value', 400, 'BAD_REQUEST'],
      [JSON.stringify({ blinded: ['x'.repeat(MAX_BODY_BYTES)] }), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await app.post(body);
      expect([res.status, res.json.error.code]).toEqual([status, code]);
      expect(res.text).not.toMatch(/secret|garbage|x{5}/);
      expect(res.text).not.toContain(notAPoint);
    }
    expect(app.calls().every((l) => l.member === 'WMP' && l.outcome === 'refused')).toBe(true);
    expect(await chunkedUpload(app.url, app.token('WMP', TEST_KEYS.wmpPeer))).toBe(413);
  });

  it('refuses with 503 STORE_UNAVAILABLE, never serves unchecked, when its database cannot answer', async () => {
    const app = await start();
    await app.store.close();
    const res = await app.post({ blinded: blindAll(['x']).blinded.map(b64) });
    expect([res.status, res.json.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(res.json.evaluated).toBeUndefined();
    expect(app.calls()).toEqual([expect.objectContaining({ outcome: 'refused', status: 503, code: 'STORE_UNAVAILABLE' })]);
  });

  it('rate-limits a hammering member by keys, logs it, and still serves another member', async () => {
    const app = await start({ ratePerSecond: 10, burst: 100, maxBatch: 50 });
    const batch = { blinded: blindAll(Array.from({ length: 50 }, (_, i) => `k${i}`)).blinded.map(b64) };
    expect((await app.post(batch)).status).toBe(200);
    expect((await app.post(batch)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const res = await app.post(batch);
      expect([res.status, res.json.error.code, res.headers.get('retry-after')]).toEqual([429, 'RATE_LIMITED', '5']);
    }
    const gmp = await app.post(batch, app.token('GMP', TEST_KEYS.gmpPeer));
    expect(gmp.status).toBe(200);
    const limited = createHttpEvaluator({ url: app.url, member: 'WMP', peerTokenKey: TEST_KEYS.wmpPeer, now: app.clock.now });
    await expect(limited.evaluate([blindAll(['z']).blinded[0]!])).rejects.toMatchObject({ code: 'LINKAGE_RATE_LIMITED' });

    const lines = app.calls().map((l) => [l.member, l.outcome, l.count]);
    expect(lines.filter(([m, o]) => m === 'WMP' && o === 'rate_limited')).toHaveLength(6);
    expect(lines.filter(([m]) => m === 'GMP')).toEqual([['GMP', 'evaluated', 50]]);

    app.clock.advance(5);
    expect((await app.post(batch)).status).toBe(200);
  });

  it('answers 503 EVALUATION_BUSY with Retry-After while its OPRF worker thread has 4,096 keys waiting, and evaluates again once they are done', async () => {
    const app = await start();
    const batch = { blinded: blindAll(['a', 'b']).blinded.map(b64) };
    // This process's one OPRF pool, filled by other work: 4,096 keys waiting until they are done.
    const filler = blindAll(Array.from({ length: 4096 }, (_, i) => `f${i}`)).blinded;
    const waiting = oprfOffThread.evaluate(OPRF_K2, filler);
    const busy = await app.post(batch);
    expect([busy.status, busy.json.error.code, busy.headers.get('retry-after')]).toEqual([503, 'EVALUATION_BUSY', '1']);
    expect(app.calls().at(-1)).toMatchObject({ member: 'WMP', outcome: 'refused', status: 503, code: 'EVALUATION_BUSY' });
    await waiting;
    const after = await app.post(batch);
    expect(after.status).toBe(200);
    expect(after.json.evaluated).toHaveLength(2);
  });
});
