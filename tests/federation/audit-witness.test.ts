// The receipts a member holds as witnesses of another node's log (GET /audit/receipts, `mcx audit
// verify --receipts`): two real nodes on loopback. WMP asks GMP for a child's episodes; each answer
// brings a receipt GMP signed with its audit key. WMP's auditor hands GMP's auditor the receipts
// file; against it, GMP's export verifies while whole, and fails once someone with GMP's owner
// login has removed a tail together with the checkpoints over it, which GMP's export alone shows as
// a whole, shorter log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseReceiptsFile } from '@mcx/audit';
import { devAudience } from '@mcx/auth';
import { FederatedEpisodesDocument, PublishSubjectDocument } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';
import { exportPublicKeyPem, generateSigningKey, toPublicKey } from '@mcx/signing';

import { ownerSql } from '../testkit/alerts.js';
import { AUDIT_CHECKPOINT, cliVerifyExport } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import type { TestNode } from '../testkit/node.js';

const CHILD = { forename: 'Imogen', surname: 'Tarrant', dob: '2012-02-17', sex: 'FEMALE' as const, nhsNumber: '9990001677' };
type Force = 'WMP' | 'GMP';
let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;
const token = (at: Force, force: string, roles: ('auditor' | 'investigator')[], subject: string) =>
  nodes[at].issuer.mintToken({ roles, force, orgKind: 'police', subject, kind: 'user', ttlSec: 600, audience: devAudience(at) });
const get = async (at: Force, path: string, bearer?: string) =>
  fetch(new URL(path, nodes[at].node.url), bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});
const ask = async () => {
  const { federatedEpisodes } = await nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD });
  expect(federatedEpisodes.federation.completeness).toBe('COMPLETE');
};
const checkpointAtGmp = async () => (await nodes.GMP.as({ roles: ['auditor'], subject: 'dpo-gmp' })).request(AUDIT_CHECKPOINT as never);
const gmpPem = () => exportPublicKeyPem(toPublicKey(fed.keys.GMP!.auditCheckpoint));
const wmpPem = () => exportPublicKeyPem(toPublicKey(fed.keys.WMP!.auditCheckpoint));

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation(['WMP', 'GMP'] as const, {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    env: { MCX_AUDIT_CHECKPOINT_SECONDS: '0' },
  }));
  const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
  const { publishSubject } = await nodes.GMP.client.request(PublishSubjectDocument, {
    input: { subjectRef: 'SUBJ-GMP-IMOGEN', reviewAt, identity: CHILD },
  });
  expect(publishSubject.errors).toEqual([]);
  expect((await publishEpisode(nodes.GMP.client, episodeInput({ subjectRef: 'SUBJ-GMP-IMOGEN' }))).errors).toEqual([]);
  // Three reads: the first receipt quotes no checkpoint of GMP's, the next two the one signed between.
  await ask();
  await checkpointAtGmp();
  await ask();
  await ask();
}, 120_000);

afterAll(() => close?.());

describe('GET /audit/receipts and mcx audit verify --receipts', () => {
  it("only this force's auditors get receipts, for one other member at a time; each download is audited", async () => {
    expect((await get('WMP', '/audit/receipts?from=GMP')).status).toBe(401);
    expect((await get('WMP', '/audit/receipts?from=GMP', await token('WMP', 'WMP', ['investigator'], 'inv-w'))).status).toBe(403);
    // An auditor of another force, with a token WMP trusts, is not an auditor of WMP.
    expect((await get('WMP', '/audit/receipts?from=GMP', await token('WMP', 'GMP', ['auditor'], 'dpo-g-at-w'))).status).toBe(403);
    const auditor = await token('WMP', 'WMP', ['auditor'], 'dpo-w');
    const refusals: [string, string][] = [
      ['/audit/receipts', 'MEMBER_INVALID'],
      ['/audit/receipts?from=gmp%20x', 'MEMBER_INVALID'],
      ['/audit/receipts?from=GMP&from=MPS', 'MEMBER_INVALID'],
      ['/audit/receipts?from=GMP&x=1', 'MEMBER_INVALID'],
      ['/audit/receipts?from=WMP', 'MEMBER_IS_SELF'],
    ];
    for (const [bad, reason] of refusals) {
      const res = await get('WMP', bad, auditor);
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(await res.json()).toEqual({ error: expect.objectContaining({ code: 'BAD_REQUEST', reason }) });
    }
    // A well-formed code with no receipt behind it is refused by name, not downloaded as an empty file:
    // a force that is no member (a typo), and a member this node has asked nothing (GMP has never asked WMP).
    const unknown = await get('WMP', '/audit/receipts?from=GPM', auditor);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: expect.objectContaining({ code: 'NOT_FOUND', reason: 'MEMBER_UNKNOWN' }) });
    const neverAsked = await get('GMP', '/audit/receipts?from=WMP', await token('GMP', 'GMP', ['auditor'], 'dpo-g'));
    expect(neverAsked.status).toBe(404);
    expect(await neverAsked.json()).toEqual({
      error: { code: 'NOT_FOUND', reason: 'NO_RECEIPTS', message: 'this node holds no receipt from WMP: it has asked WMP nothing yet' },
    });
    // A store that cannot be read to check (here the node's role may not read the receipts): unavailable now, never a fault.
    await ownerSql(nodes.WMP, (sql) => sql`revoke select on audit_receipts from mcx_app`);
    try {
      const unreadable = await get('WMP', '/audit/receipts?from=GMP', auditor);
      expect(unreadable.status).toBe(503);
      expect(unreadable.headers.get('retry-after')).toBe('30');
      expect(await unreadable.json()).toEqual({
        error: { code: 'AUDIT_UNAVAILABLE', message: 'the audit store cannot be read now; retry later' },
      });
      // Logged for the operator with its type and SQLSTATE (42501: permission denied), never the driver's message.
      const line = nodes.WMP.logs()
        .split('\n')
        .find((l) => l.includes('audit store unreadable'));
      expect(JSON.parse(line!)).toMatchObject({ level: 'error', err: { type: 'PostgresError', code: '42501' }, route: '/audit/receipts' });
      expect(line).not.toContain('permission denied');
    } finally {
      await ownerSql(nodes.WMP, (sql) => sql`grant select on audit_receipts to mcx_app`);
    }
    const entries = () =>
      ownerSql(
        nodes.WMP,
        (sql) => sql<{ entry: { action: string; purpose: string; actor: { subject: string }; query: { recordIds: string[] } } }[]>`
          select entry from audit_entries where entry->'query'->>'operation' = 'auditReceipts' order by seq`,
      );
    const before = (await entries()).length;
    const res = await get('WMP', '/audit/receipts?from=GMP', auditor);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="receipts-GMP-held-by-WMP.jsonl"');
    const file = parseReceiptsFile(await res.text());
    expect(file.header).toMatchObject({ holder: 'WMP', from: 'GMP' });
    expect(file.receipts).toHaveLength(3);
    const audited = (await entries()).slice(before).map((r) => r.entry);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      action: 'consultation',
      purpose: 'AUDIT_REVIEW',
      actor: { subject: 'dpo-w' },
      query: { recordIds: ['from:GMP'] },
    });
  });

  it("GMP's whole export verifies against WMP's receipts; a tail removed with its checkpoints fails against them, though the file alone does not", async () => {
    const wmpAuditor = await token('WMP', 'WMP', ['auditor'], 'dpo-w2');
    const gmpAuditor = await token('GMP', 'GMP', ['auditor'], 'dpo-g');
    const receiptsHeld = async () => (await get('WMP', '/audit/receipts?from=GMP', wmpAuditor)).text();
    const receipts = await receiptsHeld();
    const whole = await (await get('GMP', '/audit/export', gmpAuditor)).text();
    const holder = { WMP: wmpPem() };
    const ok = await cliVerifyExport(whole, gmpPem(), undefined, receipts, holder);
    expect(ok.stdout).toContain("ok against WMP's receipts: the 3 entries and 1 checkpoints they witness are all here, unchanged");
    expect(ok.code).toBe(0);
    // WMP's key from the signed manifest, under the operator's key, as a node reads it.
    const env = fed.nodeEnv('GMP');
    const trusted = ['--manifest', env.MCX_MANIFEST_FILE!, '--operator-key', env.MCX_OPERATOR_PUBLIC_KEY_FILE!];
    const byManifest = await cliVerifyExport(whole, gmpPem(), undefined, receipts, {}, trusted);
    expect(byManifest.stdout).toContain("ok against WMP's receipts: the 3 entries and 1 checkpoints they witness are all here, unchanged");
    expect(byManifest.code).toBe(0);
    const halfTrusted = await cliVerifyExport(whole, gmpPem(), undefined, receipts, {}, trusted.slice(0, 2));
    expect(halfTrusted.code).toBe(1);
    expect(halfTrusted.stdout).toBe('');
    // WMP sealed the file: without WMP's key the seal is not checked, and the result is never ok.
    const unsealed = await cliVerifyExport(whole, gmpPem(), undefined, receipts);
    expect(unsealed.stdout).toContain("but the file's seal was not checked, so receipts left out of it would not show: give WMP's");
    expect(unsealed.code).toBe(2);
    // A receipt left out on the way to GMP's auditors (the count mended to match) shows against WMP's seal.
    const lines = receipts.trimEnd().split('\n');
    const end = JSON.parse(lines.at(-1)!) as { receipts: number };
    const trimmed = [...lines.slice(0, -2), JSON.stringify({ ...end, receipts: end.receipts - 1 })].join('\n') + '\n';
    const left = await cliVerifyExport(whole, gmpPem(), undefined, trimmed, holder);
    expect(left.stdout).toContain("FAILED against WMP's receipts: the file was changed after WMP sealed it (3 receipts sealed, 2 here)");
    expect(left.code).toBe(1);
    // Another key than WMP's given for it: the seal does not verify. GMP's own key given for WMP is refused as such.
    const stranger = exportPublicKeyPem(toPublicKey(generateSigningKey('audit-checkpoint')));
    const wrong = await cliVerifyExport(whole, gmpPem(), undefined, receipts, { WMP: stranger });
    expect(wrong.stdout).toContain("FAILED against WMP's receipts: the file's seal does not verify with the keys given for WMP");
    expect(wrong.code).toBe(1);
    const own = await cliVerifyExport(whole, gmpPem(), undefined, receipts, { WMP: gmpPem() });
    expect(own.stdout).toContain("FAILED against WMP's receipts: a key given for WMP is one of GMP's own (--public-key)");
    expect(own.code).toBe(1);
    // A receipt given after that export, for an entry beyond it: against it, the export is unchecked (exit 2), never ok.
    await ask();
    const stale = await cliVerifyExport(whole, gmpPem(), undefined, await receiptsHeld(), holder);
    expect(stale.stdout).toContain(
      "UNCHECKED against WMP's receipts: the 3 entries and 1 checkpoints they witness are all here, unchanged, but 1 name",
    );
    expect(stale.code).toBe(2);

    // Someone with GMP's owner login removes everything from its first disclosure to WMP on, and every checkpoint over it.
    const seqs = parseReceiptsFile(receipts).receipts.map((r) =>
      Number((JSON.parse(Buffer.from(r.split('.')[1]!, 'base64url').toString('utf8')) as { entry: { id: string } }).entry.id.split(':')[1]),
    );
    const first = Math.min(...seqs);
    await ownerSql(nodes.GMP, async (sql) => {
      await sql`delete from audit_entries where seq >= ${first}`;
      await sql`delete from audit_checkpoints where size >= ${first}`;
    });
    // GMP appends on from what is left (the export's own entry comes at that seq): its next export is a shorter log, nothing in it tampered.
    const shorter = await (await get('GMP', '/audit/export', gmpAuditor)).text();
    const alone = await cliVerifyExport(shorter, gmpPem());
    expect(alone.code).not.toBe(1);
    expect(alone.stdout).not.toContain('FAILED');
    const against = await cliVerifyExport(shorter, gmpPem(), undefined, await receiptsHeld(), holder);
    expect(against.stdout).toMatch(
      new RegExp(
        `FAILED against WMP's receipts: entry seq ${first}, which GMP gave a receipt for at \\S+, (has changed \\(its hash differs\\)|is no longer in the log \\(removed\\))`,
      ),
    );
    expect(against.code).toBe(1);
  });
});
