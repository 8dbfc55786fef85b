// The `mcx` a force runs after `npm ci` (node_modules/.bin/mcx, `npx mcx`), from any directory:
// the key files it writes are named as deploy/runbook.md names them, and the audit public key
// it prints is what `mcx audit verify` takes.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { chainEntries, makeCheckpoint, writeExport, type AuditEntryInput } from '@mcx/audit';
import { loadSigningKey, toPublicKey } from '@mcx/signing';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin/mcx');

/** Runs node_modules/.bin/mcx from `cwd` (not the clone), as an operator's shell would. */
async function mcx(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BIN, args, { cwd, env: { ...process.env, LOG_LEVEL: 'warn' }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const entry = (i: number): AuditEntryInput => ({
  at: new Date(Date.UTC(2026, 10, 20, 10, 0, i)).toISOString(),
  action: 'consultation',
  actor: { subject: `inv-${i % 3}`, force: 'WMP', orgKind: 'police', roles: ['investigator'] },
  requestingNode: 'WMP',
  purpose: 'MISSING_LIVE_SEARCH',
  caseRef: 'WMP-26-1001',
  query: { operation: 'localEpisode', recordIds: [`rec-${i}`], linkageDigest: null },
  recordIds: [`rec-${i}`],
  outcome: 'success',
  reason: null,
});

describe('the mcx command after npm ci', () => {
  it('npm links node_modules/.bin/mcx to the CLI (the lockfile declares the bin), and it runs from any directory', async () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { bin?: Record<string, string> }>;
    };
    expect(lock.packages['packages/cli']?.bin).toEqual({ mcx: 'bin/mcx' });
    expect(realpathSync(BIN)).toBe(path.join(ROOT, 'packages/cli/bin/mcx'));
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'mcx-cwd-'));
    const help = await mcx(elsewhere, ['--help']);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mcx /);
  });

  it('generate-operator writes operator.pem and operator.pub.pem, the names the runbook uses', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-op-'));
    const out = await mcx(dir, ['keys', 'generate-operator', '--out', 'operator.pem']);
    expect(out.code).toBe(0);
    expect(existsSync(path.join(dir, 'operator.pem'))).toBe(true);
    expect(readFileSync(path.join(dir, 'operator.pub.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(existsSync(path.join(dir, 'operator.pem.pub.pem'))).toBe(false);
  });

  it('audit public-key prints the PEM that audit verify checks an export with, and with --all every key a rotation retired', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-auditkey-'));
    expect((await mcx(dir, ['keys', 'generate', '--dir', 'keys'])).code).toBe(0);
    const printed = await mcx(dir, ['audit', 'public-key', '--dir', 'keys']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    writeFileSync(path.join(dir, 'audit.pub.pem'), printed.stdout);

    const key = await loadSigningKey(path.join(dir, 'keys/audit-checkpoint.pem'), 'audit-checkpoint');
    const rows = chainEntries(
      null,
      Array.from({ length: 3 }, (_, i) => entry(i)),
    );
    const checkpoint = makeCheckpoint('WMP', { seq: 3, hash: rows[2]!.hash }, '2026-11-20T10:01:00.000Z', key);
    const text = writeExport({
      node: 'WMP',
      exportedAt: '2026-11-20T10:02:00.000Z',
      publicKey: toPublicKey(key),
      entries: rows,
      checkpoints: [checkpoint],
    });
    writeFileSync(path.join(dir, 'export.jsonl'), text);
    const verified = await mcx(dir, ['audit', 'verify', 'export.jsonl', '--public-key', 'audit.pub.pem']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('result: OK');

    // A year on the audit key is rotated: the next checkpoint is signed by the new key, the first stays under the retired one.
    expect((await mcx(dir, ['keys', 'rotate', '--dir', 'keys', '--job', 'audit-checkpoint'])).code).toBe(0);
    expect((await mcx(dir, ['keys', 'activate', '--dir', 'keys', '--job', 'audit-checkpoint'])).code).toBe(0);
    const next = await loadSigningKey(path.join(dir, 'keys/audit-checkpoint.pem'), 'audit-checkpoint');
    const more = chainEntries({ seq: 3, hash: rows[2]!.hash }, [entry(3)]);
    const later = makeCheckpoint('WMP', { seq: 4, hash: more[0]!.hash }, '2027-11-20T10:01:00.000Z', next);
    writeFileSync(
      path.join(dir, 'rotated.jsonl'),
      writeExport({
        node: 'WMP',
        exportedAt: '2027-11-20T10:02:00.000Z',
        publicKey: toPublicKey(next),
        entries: [...rows, ...more],
        checkpoints: [checkpoint, later],
      }),
    );
    const all = await mcx(dir, ['audit', 'public-key', '--dir', 'keys', '--all']);
    expect(all.stdout.match(/-----BEGIN PUBLIC KEY-----/g)).toHaveLength(2);
    writeFileSync(path.join(dir, 'all.pub.pem'), all.stdout);
    writeFileSync(path.join(dir, 'new.pub.pem'), (await mcx(dir, ['audit', 'public-key', '--dir', 'keys'])).stdout);
    // Where only the retired key's public half is kept (a Secret), --all prints the same.
    const retiredFile = `keys/audit-checkpoint.${key.kid}.retired.pem`;
    const half = await mcx(dir, ['audit', 'public-key', '--dir', 'keys', '--kid', key.kid]);
    writeFileSync(path.join(dir, `keys/audit-checkpoint.${key.kid}.retired.pub.pem`), half.stdout);
    rmSync(path.join(dir, retiredFile));
    expect((await mcx(dir, ['audit', 'public-key', '--dir', 'keys', '--all'])).stdout).toBe(all.stdout);
    const whole = await mcx(dir, ['audit', 'verify', 'rotated.jsonl', '--public-key', 'all.pub.pem']);
    expect([whole.code, whole.stdout]).toEqual([0, expect.stringContaining('ok through seq 4')]);
    const newOnly = await mcx(dir, ['audit', 'verify', 'rotated.jsonl', '--public-key', 'new.pub.pem']);
    expect(newOnly.code).toBe(1);
    expect(newOnly.stdout).toContain('FAILED at seq 3: CHECKPOINT_UNKNOWN_KEY');

    const missing = await mcx(dir, ['audit', 'public-key', '--dir', 'nowhere']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`mcx: ${path.join('nowhere', 'audit-checkpoint.pem')} does not exist; run \`mcx keys generate\` first\n`);
  }, 90_000); // eleven runs of the command, each a Node start
});
