import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { gql } from 'graphql-tag';
import { flattenedVerify, importJWK } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freshMigratedDatabase } from '@mcx/db/testing';
import { LINKAGE_DIGEST_FILE, linkageDigestKeyOf, readLinkageDigestKey } from '@mcx/node';
import { InMemoryManifestStore, loadSigningKey, loadVerifyKey, TrustManifestHolder, verifyRecord } from '@mcx/signing';

import { AUDIT_CHECKPOINT, AUDIT_EXPORT, auditorOf, cliVerifyExport, integrity } from '../testkit/audit.js';
import { mcx, mcxExit } from '../testkit/cli.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

// The whole key life cycle through the real CLI and a real node: generate, publish a manifest,
// rotate twice, revoke, re-sign; and the manifest refusals a node must make.
const dir = mkdtempSync(path.join(tmpdir(), 'mcx-keys-'));
const f = (name: string) => path.join(dir, name);
let databaseUrl: string;
let t: TestNode | null = null;
const env = () => ({ MCX_KEYS_DIR: f('keys'), MCX_OPERATOR_PUBLIC_KEY_FILE: f('op.pub.pem'), MCX_MANIFEST_FILE: f('manifest.jws') });

async function signManifest(): Promise<void> {
  await mcx(['manifest', 'sign', '--manifest', f('manifest.json'), '--operator-key', f('op.pem'), '--out', f('manifest.jws')]);
}

async function restartNode(): Promise<TestNode> {
  await t?.close();
  t = await startTestNode({ force: 'WMP', databaseUrl, env: env() });
  return t;
}

async function holder(): Promise<TrustManifestHolder> {
  const h = new TrustManifestHolder({
    operatorKey: await loadVerifyKey(f('op.pub.pem'), 'manifest'),
    store: new InMemoryManifestStore(),
  });
  await h.accept(readFileSync(f('manifest.jws'), 'utf8').trim());
  return h;
}

beforeAll(async () => {
  databaseUrl = await freshMigratedDatabase();
  await mcx(['keys', 'generate-operator', '--out', f('op.pem')]);
  await mcx(['keys', 'generate', '--dir', f('keys')]);
  writeFileSync(f('pub.json'), await mcx(['keys', 'public', '--dir', f('keys')]));
  await mcx(['manifest', 'init', '--out', f('manifest.json'), '--operator-key', f('op.pem')]);
  await mcx([
    'manifest',
    'add-member',
    '--manifest',
    f('manifest.json'),
    '--code',
    'WMP',
    '--name',
    'West Midlands Police',
    '--kind',
    'police',
    '--endpoint',
    'https://mcx.wmp.example',
    '--contact',
    '+44 121 000 0000',
    '--keys',
    f('pub.json'),
    '--capabilities',
    'peer.records/1',
  ]);
  await signManifest();
}, 120_000);
afterAll(() => t?.close());

describe('keys, signed records and the trust manifest', () => {
  const published: { bytes: string; signature: string }[] = [];
  /** A second record signed by the first key, changed in the database before the re-signing. */
  let tampered = '';

  it('a record published by the node verifies with jose against the node key (an independent path)', async () => {
    const node = await restartNode();
    const { episode } = await publishEpisode(node.client, episodeInput());
    published.push({ bytes: episode!.recordBytes, signature: episode!.recordSignature });
    tampered = JSON.parse((await publishEpisode(node.client, episodeInput())).episode!.recordBytes).id as string;
    const jwks = (await (await fetch(`${node.node.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; mcx_job: string }[] };
    const recordJwk = jwks.keys.find((k) => k.mcx_job === 'record')!;
    const [header, , sig] = episode!.recordSignature.split('.');
    const payload = Buffer.from(episode!.recordBytes).toString('base64url');
    const result = await flattenedVerify({ protected: header!, payload, signature: sig! }, await importJWK(recordJwk as never, 'EdDSA'));
    expect(new TextDecoder().decode(result.payload)).toBe(episode!.recordBytes);
    expect(result.protectedHeader).toMatchObject({ alg: 'EdDSA', kid: recordJwk.kid, typ: 'mcx-record+jws' });
    expect(await (await fetch(`${node.node.url}/readyz`)).json()).toMatchObject({ manifest: { version: 2, status: 'valid' } });
  });

  it('after two rotations, records signed under all three keys still verify', async () => {
    for (let round = 0; round < 2; round++) {
      await mcx(['keys', 'rotate', '--dir', f('keys'), '--job', 'record']);
      writeFileSync(f('next.json'), await mcx(['keys', 'public', '--dir', f('keys')]));
      await mcx(['manifest', 'add-key', '--manifest', f('manifest.json'), '--code', 'WMP', '--keys', f('next.json')]);
      await signManifest();
      await t!.node.app.trust!.reload(); // the manifest spreads before the key is used
      await mcx(['keys', 'activate', '--dir', f('keys'), '--job', 'record']);
      const node = await restartNode();
      const { episode } = await publishEpisode(node.client, episodeInput());
      published.push({ bytes: episode!.recordBytes, signature: episode!.recordSignature });
    }
    const h = await holder();
    const results = published.map((p) => verifyRecord(p.bytes, p.signature, h.keyResolver('record')));
    expect(results.map((r) => r.valid)).toEqual([true, true, true]);
    expect(new Set(results.map((r) => (r.valid ? r.kid : null))).size).toBe(3);
    const statuses = h
      .member('WMP')!
      .keys.filter((k) => k.job === 'record')
      .map((k) => k.status);
    expect(statuses).toEqual(['verify-only', 'verify-only', 'active']);
  });

  it('a revoked key fails with its reason until the owner re-signs its records', async () => {
    const first = published[0]!;
    const firstKid = JSON.parse(Buffer.from(first.signature.split('.')[0]!, 'base64url').toString()).kid as string;
    await mcx(['manifest', 'revoke-key', '--manifest', f('manifest.json'), '--kid', firstKid]);
    await signManifest();
    expect(verifyRecord(first.bytes, first.signature, (await holder()).keyResolver('record'))).toEqual({
      valid: false,
      reason: 'REVOKED_KEY',
    });

    await t!.close();
    t = null;
    // Someone with the database changes a record signed by the revoked key: re-signing must not make it good.
    const sql = postgres(databaseUrl, { max: 1 });
    await sql`update record_versions set bytes = replace(bytes, '"riskGrade":"', '"riskGrade":"X') where id = ${tampered}`;
    await sql.end();
    const out = await mcxExit(['records', 'resign', '--revoked-kid', firstKid], {
      ...env(),
      DATABASE_URL: databaseUrl,
      MCX_FORCE_CODE: 'WMP',
    });
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^re-signed 1 record versions with /);
    expect(out.stdout).toContain(`NOT re-signed: 1 record versions whose stored signature does not verify under the revoked key`);
    expect(out.stdout).toContain(`${tampered} v1`);
    const node = await restartNode();
    // The changed record stays unusable: withheld from readers, and counted as an integrity fault.
    expect(
      (await node.investigator.request((await import('@mcx/client')).LocalEpisodeDocument, { owner: 'WMP', id: tampered })).localEpisode,
    ).toBeNull();
    const id = JSON.parse(first.bytes).id as string;
    const again = (await node.investigator.request((await import('@mcx/client')).LocalEpisodeDocument, { owner: 'WMP', id })).localEpisode!;
    expect(again.recordBytes).toBe(first.bytes);
    expect(verifyRecord(again.recordBytes, again.recordSignature, (await holder()).keyResolver('record'))).toMatchObject({ valid: true });
    const unlisted = verifyRecord(
      first.bytes,
      first.signature.replace(
        /^[^.]+/,
        Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'not-listed', typ: 'mcx-record+jws' })).toString('base64url'),
      ),
      (await holder()).keyResolver('record'),
    );
    expect(unlisted).toEqual({ valid: false, reason: 'UNKNOWN_KEY' });
  });

  it('after a rotation of the audit-checkpoint key the log checks whole: on the node, and offline with every key', async () => {
    await (await auditorOf(t!)).request(AUDIT_CHECKPOINT as never); // under the key about to retire
    // The audit log's digest of a child's linkage keys, as the node keys it before the rotation.
    const childKeys = [{ key: 'k-nhs-0001' }, { key: 'k-name-dob-0001' }];
    const digestBefore = t!.node.app.services.subjects.digest(childKeys);
    expect(existsSync(f(`keys/${LINKAGE_DIGEST_FILE}`))).toBe(false);
    await mcx(['keys', 'rotate', '--dir', f('keys'), '--job', 'audit-checkpoint']);
    writeFileSync(f('next.json'), await mcx(['keys', 'public', '--dir', f('keys')]));
    await mcx(['manifest', 'add-key', '--manifest', f('manifest.json'), '--code', 'WMP', '--keys', f('next.json')]);
    await signManifest();
    await t!.node.app.trust!.reload();
    await mcx(['keys', 'activate', '--dir', f('keys'), '--job', 'audit-checkpoint']);
    const node = await restartNode(); // the old process signed its last checkpoint under the old key at shutdown
    // activate pinned the digest key first: the same child's reads keep the same digest across the rotation,
    // where a key derived from the new audit key would have changed every digest from here on.
    expect(statSync(f(`keys/${LINKAGE_DIGEST_FILE}`)).mode & 0o777).toBe(0o600);
    expect(node.node.app.services.subjects.digest(childKeys)).toBe(digestBefore);
    const derivedNow = linkageDigestKeyOf(await loadSigningKey(f('keys/audit-checkpoint.pem'), 'audit-checkpoint'));
    expect(derivedNow.equals(readLinkageDigestKey(f('keys'))!)).toBe(false);
    // The new key's first checkpoint of the same head: that size is taken, and the node must not
    // count a checkpoint it could not store as its own (it then found none, and refused to sign).
    await node.node.app.services.audit.checkpoint();
    await publishEpisode(node.client, episodeInput());
    const auditor = await auditorOf(node);
    await auditor.request(AUDIT_CHECKPOINT as never); // under the new key
    expect(await integrity(auditor)).toMatchObject({ status: 'ok', firstBadReason: null, unverifiedAfter: 0 });

    const { auditExport } = (await auditor.request(AUDIT_EXPORT as never)) as { auditExport: string };
    const keys = await mcx(['audit', 'public-key', '--dir', f('keys'), '--all']);
    expect(keys.match(/-----BEGIN PUBLIC KEY-----/g)).toHaveLength(2);
    // The console's integrity page offers the same keys, in the same order.
    const status = (await auditor.request(
      gql`
        {
          auditStatus {
            publicKeyPem
          }
        }
      ` as never,
    )) as { auditStatus: { publicKeyPem: string } };
    expect(status.auditStatus.publicKeyPem).toBe(keys);
    // Every checkpoint verifies; only the export's own read, after the last checkpoint, is unverified (exit 2).
    const entries = auditExport
      .trimEnd()
      .split('\n')
      .filter((l) => l.includes('"type":"entry"')).length;
    const whole = await cliVerifyExport(auditExport, keys);
    expect(whole).toEqual({ code: 2, stdout: expect.stringContaining(`ok through seq ${entries - 1}\nUNVERIFIED: 1 entries`) });
    // The current key alone cannot vouch for the checkpoints signed before the rotation.
    const current = await cliVerifyExport(auditExport, await mcx(['audit', 'public-key', '--dir', f('keys')]));
    expect(current).toEqual({ code: 1, stdout: expect.stringContaining('CHECKPOINT_UNKNOWN_KEY') });
  });

  it('a node refuses a rolled-back manifest, across a restart, and keeps the newest it has seen', async () => {
    const newest = readFileSync(f('manifest.jws'), 'utf8');
    const version = JSON.parse(readFileSync(f('manifest.json'), 'utf8')).version as number;
    writeFileSync(f('old.json'), JSON.stringify({ ...JSON.parse(readFileSync(f('manifest.json'), 'utf8')), version: 2 }));
    await mcx(['manifest', 'sign', '--manifest', f('old.json'), '--operator-key', f('op.pem'), '--out', f('manifest.jws')]);
    await expect(t!.node.app.trust!.reload()).resolves.toBeUndefined();
    expect(t!.node.app.trust!.describe().version).toBe(version);
    const node = await restartNode();
    expect(node.node.app.trust!.describe().version).toBe(version);
    expect(node.logs()).toContain('older than the newest manifest');
    writeFileSync(f('manifest.jws'), newest);
  });

  it('a node refuses to start on an unsigned manifest or one signed by someone else', async () => {
    await t?.close();
    t = null;
    const other = path.join(dir, 'other');
    await mcx(['keys', 'generate-operator', '--out', `${other}.pem`]);
    await mcx(['manifest', 'init', '--out', f('forged.json'), '--operator-key', `${other}.pem`]);
    await mcx(['manifest', 'sign', '--manifest', f('forged.json'), '--operator-key', `${other}.pem`, '--out', f('forged.jws')]);
    const fresh = await freshMigratedDatabase();
    await expect(
      startTestNode({ force: 'WMP', databaseUrl: fresh, env: { ...env(), MCX_MANIFEST_FILE: f('forged.jws') } }),
    ).rejects.toMatchObject({ code: 'MANIFEST_WRONG_SIGNER' });
    const payload = Buffer.from(readFileSync(f('manifest.json'))).toString('base64url');
    writeFileSync(f('unsigned.jws'), `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`);
    await expect(
      startTestNode({ force: 'WMP', databaseUrl: fresh, env: { ...env(), MCX_MANIFEST_FILE: f('unsigned.jws') } }),
    ).rejects.toMatchObject({ code: 'MANIFEST_UNSIGNED' });
  });
});
