// GET /audit/export (services/node/src/http/audit-export-routes.ts): the audit log streamed to an
// auditor as JSON Lines for `mcx audit verify`, a page at a time, audited before its first byte.
// One real node; the entries are real appends. Where a test needs an export to stay open, or to
// fail part-way, the node's chunk source is held or made to throw: the route, its guard, its
// audit entry and the HTTP stream are the node's own.
import { request } from 'node:http';
import { connect } from 'node:net';

import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseExport, verifyExport } from '@mcx/audit';
import { devAudience } from '@mcx/auth';
import { exportPublicKeyPem } from '@mcx/signing';

import { ownerSql } from '../testkit/alerts.js';
import { allEntries, AUDIT_CHECKPOINT, AUDIT_ENTRIES, AUDIT_EXPORT, cliVerifyExport, seededNode } from '../testkit/audit.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import type { TestNode } from '../testkit/node.js';

let t: TestNode;
let auditorToken: string;
let otherAuditors: string[];
let investigatorToken: string;

const viewer = {
  subject: 'inv-1',
  issuer: 'https://login.example/wmp',
  force: 'WMP',
  orgKind: 'police' as const,
  roles: ['investigator' as const],
  tokenKind: 'user' as const,
};

beforeAll(async () => {
  ({ t } = await seededNode('WMP', { MCX_AUDIT_CHECKPOINT_SECONDS: '0', MCX_AUDIT_EXPORT_STALL_SECONDS: '3' }));
  const mint = (roles: ('auditor' | 'investigator')[], subject: string) =>
    t.issuer.mintToken({ roles, force: 'WMP', orgKind: 'police', subject, kind: 'user', ttlSec: 600, audience: devAudience('WMP') });
  auditorToken = await mint(['auditor'], 'dpo-export');
  investigatorToken = await mint(['investigator'], 'inv-export');
  otherAuditors = [await mint(['auditor'], 'dpo-export-2'), await mint(['auditor'], 'dpo-export-3')];
  // 1,200 more entries: the export reads 500 at a time, so it crosses pages.
  for (let batch = 0; batch < 24; batch++)
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.node.app.services.audit.record({
          action: 'consultation',
          viewer,
          requestingNode: null,
          purpose: 'MISSING_LIVE_SEARCH',
          caseRef: 'WMP-26-1001',
          linkageDigest: null,
          operation: 'localEpisode',
          queryIds: [],
          recordIds: [`WMP/bulk-${batch}-${i}`],
          outcome: 'success',
          reason: null,
        }),
      ),
    );
}, 120_000);

afterAll(() => t?.close());

const NODE_STATUS = gql`
  query {
    nodeStatus {
      force
    }
  }
`;

const exportUrl = () => new URL('/audit/export', t.node.url);
/** Both turns are free: two auditors' exports are taken at once (and read to the end). */
async function expectBothTurnsFree() {
  const both = await Promise.all([get(auditorToken), get(otherAuditors[0]!)]);
  expect(both.map((r) => r.status)).toEqual([200, 200]);
  await Promise.all(both.map((r) => r.text()));
}
const stallCuts = () => t.logs().split('audit export cut: nothing taken for the stall limit').length - 1;
const get = (token?: string) => fetch(exportUrl(), token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('GET /audit/export', () => {
  it('streams the whole log to an auditor: it verifies with the public key alone, and holds its own audit entry', async () => {
    const auditor = await t.as({ roles: ['auditor'], subject: 'dpo-1' });
    await auditor.request(AUDIT_CHECKPOINT as never);
    const res = await get(auditorToken);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="audit-WMP.jsonl"');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();

    const parsed = parseExport(text);
    expect(parsed.header.node).toBe('WMP');
    expect(parsed.entries.length).toBeGreaterThan(1200);
    expect(parsed.entries.map((e) => e.seq)).toEqual(parsed.entries.map((_, i) => i + 1));
    expect(parsed.checkpoints.length).toBeGreaterThanOrEqual(2);
    // Its own entry, committed before the first byte: the last one, an auditor's AUDIT_REVIEW read.
    const own = parsed.entries.at(-1)!.entry;
    expect(own).toMatchObject({ action: 'consultation', purpose: 'AUDIT_REVIEW', actor: { subject: 'dpo-export' } });
    expect(own.query.operation).toBe('auditExport');

    const verified = verifyExport(text, exportPublicKeyPem(t.keys.auditCheckpoint));
    // Whole and signed: the node signs a checkpoint over the export's own entry before reading, so nothing is left unverified.
    expect(verified).toMatchObject({ status: 'ok', firstBad: null, unverifiedAfter: 0 });
    expect(verified.verifiedThrough).toBe(parsed.entries.length);

    // The same lines as the auditExport field gives, but for the entries appended since.
    const whole = (await auditor.request(AUDIT_EXPORT as never)) as { auditExport: string };
    const fieldLines = whole.auditExport.split('\n').filter((l) => l.includes('"type":"entry"'));
    const streamLines = text.split('\n').filter((l) => l.includes('"type":"entry"'));
    expect(fieldLines.slice(0, streamLines.length)).toEqual(streamLines);
  });

  it('refuses without a token (401 and a challenge) and an investigator (403, audited): neither gets a line of the log', async () => {
    const none = await get();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toEqual({ error: expect.objectContaining({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' }) });

    const bad = await get(`${auditorToken.slice(0, -4)}AAAA`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token');

    const investigator = await get(investigatorToken);
    expect(investigator.status).toBe(403);
    const body = await investigator.text();
    expect(JSON.parse(body)).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    expect(body).not.toContain('"type"');
    const auditor = await t.as({ roles: ['auditor'], subject: 'dpo-1' });
    const refusals = await allEntries(auditor, { action: 'AUTHORISATION_FAILURE', actorSubject: 'inv-export' });
    expect(refusals.map((e) => e.operation)).toEqual(['auditExport']);
  });

  it("refuses another organisation's auditor whose issuer this node trusts: not the export, the log or a checkpoint, each refusal audited", async () => {
    for (const [force, orgKind] of [
      ['GMP', 'police'],
      ['BIRMINGHAM_CC', 'local_authority'],
    ] as const) {
      const subject = `dpo-${force}`;
      const token = await t.issuer.mintToken({
        roles: ['auditor'],
        force,
        orgKind,
        subject,
        kind: 'user',
        ttlSec: 600,
        audience: devAudience('WMP'),
      });
      const res = await get(token);
      expect(res.status).toBe(403);
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN' }) });
      expect(body).not.toContain('"type"');
      const other = await t.as({ roles: ['auditor'], force, orgKind, subject, audience: devAudience('WMP') });
      await expectGraphQLError(other.raw(AUDIT_ENTRIES as never, { filter: {}, first: 1 } as never), 'FORBIDDEN');
      await expectGraphQLError(other.raw(AUDIT_EXPORT as never, {} as never), 'FORBIDDEN');
      await expectGraphQLError(other.raw(AUDIT_CHECKPOINT as never, {} as never), 'FORBIDDEN');
    }
    // Nor does another force's operator run this node: no checkpoint, no node status; this node's own operator does.
    const operator = await t.as({ roles: ['operator'], force: 'GMP', subject: 'ops-GMP', audience: devAudience('WMP') });
    await expectGraphQLError(operator.raw(AUDIT_CHECKPOINT as never, {} as never), 'FORBIDDEN');
    await expectGraphQLError(operator.raw(NODE_STATUS as never, {} as never), 'FORBIDDEN');
    const ownOperator = await t.as({ roles: ['operator'], subject: 'ops-WMP' });
    expect(await ownOperator.request(NODE_STATUS as never)).toMatchObject({ nodeStatus: { force: 'WMP' } });
    const auditor = await t.as({ roles: ['auditor'], subject: 'dpo-1' });
    for (const subject of ['dpo-GMP', 'dpo-BIRMINGHAM_CC']) {
      const refusals = await allEntries(auditor, { action: 'AUTHORISATION_FAILURE', actorSubject: subject });
      expect(refusals.map((e) => e.operation).sort()).toEqual(['auditCheckpoint', 'auditEntries', 'auditExport', 'auditExport']);
    }
  });

  it('runs at most two at once, one per auditor: the next is refused 503 with Retry-After, before any audit write, and taken once one ends', async () => {
    const audit = t.node.app.services.audit;
    const real = audit.exportChunks.bind(audit);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    audit.exportChunks = async function* () {
      yield '{"held":true}\n';
      await held;
    };
    try {
      // A burst: all at once, so the cap must hold while the first audit writes are still in flight.
      const burst = await Promise.all([auditorToken, ...otherAuditors, auditorToken, ...otherAuditors].map((token) => get(token)));
      expect(burst.filter((r) => r.status === 200)).toHaveLength(2);
      const refused = burst.filter((r) => r.status === 503);
      expect(refused).toHaveLength(4);
      for (const r of refused) {
        expect(r.headers.get('retry-after')).toBe('30');
        expect(await r.json()).toEqual({ error: expect.objectContaining({ code: 'EXPORT_BUSY' }) });
      }
      release();
      await Promise.all(burst.filter((r) => r.status === 200).map((r) => r.text()));
    } finally {
      audit.exportChunks = real;
    }
    // One auditor, one export at a time; and the slots come back once the exports end.
    await expectBothTurnsFree();
  });

  it('an export whose client takes nothing is cut after the stall limit, and its slot comes back', async () => {
    const audit = t.node.app.services.audit;
    const real = audit.exportChunks.bind(audit);
    // Far more than the sockets' buffers hold: the stream must wait for a client that never reads.
    audit.exportChunks = async function* () {
      for (let i = 0; i < 100_000; i++) yield `${'x'.repeat(64 * 1024)}\n`;
    };
    const before = stallCuts();
    const started = performance.now();
    try {
      // The client reads nothing until the node has cut the export, then reads what its buffers hold: no end to it.
      const outcome = await new Promise<'aborted' | 'end'>((resolve, reject) => {
        const req = request(exportUrl(), { headers: { authorization: `Bearer ${auditorToken}` } }, (res) => {
          res.pause();
          res.on('aborted', () => resolve('aborted'));
          res.on('close', () => resolve(res.complete ? 'end' : 'aborted'));
          const cut = setInterval(() => {
            if (stallCuts() === before) return;
            clearInterval(cut);
            res.resume();
          }, 200);
        });
        req.on('error', reject);
        req.end();
      });
      expect(outcome).toBe('aborted');
    } finally {
      audit.exportChunks = real;
    }
    // Cut at 3 s (MCX_AUDIT_EXPORT_STALL_SECONDS), checked every 3 s: so between 3 and about 6 s.
    expect(performance.now() - started).toBeGreaterThan(2500);
    expect(stallCuts()).toBe(before + 1);
    // A stall is the client's doing: not logged as a failure of the node.
    expect(t.logs()).not.toContain('audit export cut part-way');
    await expectBothTurnsFree();
  });

  it('an export whose database gives nothing: the client is cut after the stall limit, and the turn comes back with the connection', async () => {
    const audit = t.node.app.services.audit;
    const real = audit.exportChunks.bind(audit);
    // Two connections: one holds the lock, the other looks at what waits on it.
    const owner = postgres(t.databaseUrl, { max: 2, onnotice: () => {} });
    let unlock!: () => void;
    let holding: Promise<unknown> = Promise.resolve();
    // Once the export's own entry is written, the owner locks the log: the export's cursor waits on the database.
    audit.exportChunks = async function* () {
      await new Promise<void>((locked) => {
        holding = owner.begin(async (tx) => {
          await tx`lock table audit_entries in access exclusive mode`;
          locked();
          await new Promise<void>((r) => (unlock = r));
        });
      });
      yield* real();
    };
    const waiting = async () =>
      (
        await owner`select count(*)::int as n from pg_stat_activity
          where pid <> pg_backend_pid() and wait_event_type = 'Lock' and query like '%from audit_entries order by seq%'`
      )[0]!.n as number;
    const before = stallCuts();
    try {
      const res = await get(auditorToken);
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow();
      expect(stallCuts()).toBe(before + 1);
      // The export's query still waits on the database, holding its connection, so its turn is still taken:
      // the same auditor is told so, before anything is written.
      expect(await waiting()).toBe(1);
      const busy = await get(auditorToken);
      expect(busy.status).toBe(503);
      expect(await busy.json()).toEqual({ error: expect.objectContaining({ code: 'EXPORT_BUSY' }) });
      // Once the database answers, the query ends, the connection and the turn come back.
      unlock();
      await holding;
      audit.exportChunks = real;
      await expect.poll(waiting).toBe(0);
      let text = '';
      const again = async () => {
        const next = await get(auditorToken);
        if (next.status === 200) text = await next.text();
        else await next.body?.cancel();
        return next.status;
      };
      await expect.poll(again).toBe(200);
      expect(parseExport(text).entries.length).toBeGreaterThan(1200);
    } finally {
      unlock?.();
      await holding.catch(() => undefined);
      audit.exportChunks = real;
      await owner.end({ timeout: 5 });
    }
    expect(t.logs()).not.toContain('audit export cut part-way');
  });

  it('a database failure part-way cuts the response, and a file cut short is refused by the verifier, whatever the framing', async () => {
    const audit = t.node.app.services.audit;
    const real = audit.exportChunks.bind(audit);
    audit.exportChunks = async function* () {
      const chunks = real();
      yield (await chunks.next()).value as string;
      yield (await chunks.next()).value as string;
      await chunks.return(undefined);
      throw new Error('connection lost');
    };
    try {
      // HTTP/1.1: chunked, and the last chunk never comes.
      const outcome = await new Promise<{ status: number; text: string; ended: 'aborted' | 'end' }>((resolve, reject) => {
        const req = request(exportUrl(), { headers: { authorization: `Bearer ${auditorToken}` } }, (res) => {
          let text = '';
          const done = (ended: 'aborted' | 'end') => resolve({ status: res.statusCode!, text, ended });
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('aborted', () => done('aborted'));
          res.on('error', () => done('aborted'));
          res.on('end', () => done(res.complete ? 'end' : 'aborted'));
        });
        req.on('error', reject);
        req.end();
      });
      expect(outcome.status).toBe(200);
      expect(outcome.ended).toBe('aborted');
      // What was sent before the failure arrives (the header at least; a destroyed socket drops what it had not flushed).
      expect(JSON.parse(outcome.text.split('\n')[0]!)).toMatchObject({ type: 'header' });
      // HTTP/1.0: no chunks; the body simply ends when the connection closes, as a whole one would.
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(exportUrl().port), '127.0.0.1', () =>
          socket.write(`GET /audit/export HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${otherAuditors[0]}\r\n\r\n`),
        );
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
      for (const cut of [outcome.text, raw.slice(raw.indexOf('\r\n\r\n') + 4)]) {
        expect(() => parseExport(cut)).toThrow(/no end line: the export was cut short/);
        expect(() => verifyExport(cut, exportPublicKeyPem(t.keys.auditCheckpoint))).toThrow(/cut short/);
      }
      expect(t.logs()).toMatch(/"err":\{"type":"Error".*"msg":"audit export cut part-way: the client has an incomplete file"/);
      expect(t.logs()).not.toContain('connection lost'); // the error's type for the operator, never its message
    } finally {
      audit.exportChunks = real;
    }
    // The node goes on serving, and the slots are free again.
    await expectBothTurnsFree();
  });

  // The tests from here on change the log in the database: they come after those that need it whole.
  it('a log cut short in the database is shown up: every checkpoint signed before the export is in it, and the file fails verification', async () => {
    const auditor = await t.as({ roles: ['auditor'], subject: 'dpo-1' });
    await auditor.request(AUDIT_CHECKPOINT as never);
    const before = parseExport(await (await get(auditorToken)).text());
    expect(before.entries.length).toBeGreaterThan(1200);
    // Someone with the owner's login removes the tail; the node's next entries chain on from what is left.
    await ownerSql(t, (sql) => sql`delete from audit_entries where seq > 1000`);
    const text = await (await get(auditorToken)).text();
    const parsed = parseExport(text);
    expect(parsed.entries.at(-1)!.seq).toBe(1001);
    expect(parsed.checkpoints).toEqual(before.checkpoints);
    expect(verifyExport(text, exportPublicKeyPem(t.keys.auditCheckpoint)).status).toBe('failed');
  });

  it('a tail removed with the checkpoints over it: the file alone is not shown tampered, but mcx audit verify --previous fails it', async () => {
    const pem = exportPublicKeyPem(t.keys.auditCheckpoint);
    // An export the auditor kept.
    const previousText = await (await get(auditorToken)).text();
    const cut = parseExport(previousText).entries.at(-1)!.seq - 100;
    // Someone with the owner's login removes the last 100 entries and every checkpoint over them; the node appends on.
    await ownerSql(t, async (sql) => {
      await sql`delete from audit_entries where seq > ${cut}`;
      await sql`delete from audit_checkpoints where size > ${cut}`;
    });
    const text = await (await get(auditorToken)).text();
    expect(parseExport(text).entries.at(-1)!.seq).toBe(cut + 1);
    const alone = await cliVerifyExport(text, pem);
    expect(alone.code).not.toBe(1);
    expect(alone.stdout).not.toContain('FAILED');
    const against = await cliVerifyExport(text, pem, previousText);
    expect(against.code).toBe(1);
    expect(against.stdout).toContain(`FAILED against the previous export: entry seq ${cut + 1} has changed since (its hash differs)`);
  });

  // Last: it plants a row far ahead of the chain, which breaks it for any test after.
  it('the auditExport field refuses a log longer than one answer carries, naming the route; the route still streams it', async () => {
    await ownerSql(t, (sql) =>
      sql.unsafe(`insert into audit_entries (seq, prev_hash, hash, at, action, actor_subject, actor_force, requesting_node,
        purpose, case_ref, outcome, record_ids, entry) select 100001, prev_hash, hash, at, action, actor_subject, actor_force,
        requesting_node, purpose, case_ref, outcome, record_ids, entry from audit_entries where seq = 1`),
    );
    const auditor = await t.as({ roles: ['auditor'], subject: 'dpo-1' });
    const raw = await auditor.raw(AUDIT_EXPORT as never, {} as never);
    expect(raw.data).toBeNull();
    expect(raw.errors[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'EXPORT_TOO_LONG' });
    const res = await get(auditorToken);
    expect(res.status).toBe(200);
    expect(parseExport(await res.text()).entries.at(-1)!.seq).toBe(100001);
  });
});
