import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { chainEntries, makeCheckpoint, writeExport, type AuditEntryInput } from '@mcx/audit';
import { exportPublicKeyPem, generateSigningKey, toPublicKey } from '@mcx/signing';

const MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

function runVerify(file: string, pem: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, 'audit', 'verify', file, '--public-key', pem], (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout });
    });
  });
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

describe('mcx audit verify: an export and the public key, no database', () => {
  it('passes an intact export, names the first bad entry of a tampered one, and flags an unverified tail', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-audit-'));
    const key = generateSigningKey('audit-checkpoint');
    const pem = path.join(dir, 'audit.pub.pem');
    writeFileSync(pem, exportPublicKeyPem(key));
    const rows = chainEntries(
      null,
      Array.from({ length: 10 }, (_, i) => entry(i)),
    );
    const checkpoint = makeCheckpoint('WMP', { seq: 10, hash: rows[9]!.hash }, '2026-11-20T10:01:00.000Z', key);
    const text = writeExport({
      node: 'WMP',
      exportedAt: '2026-11-20T10:02:00.000Z',
      publicKey: toPublicKey(key),
      entries: rows,
      checkpoints: [checkpoint],
    });

    writeFileSync(path.join(dir, 'ok.jsonl'), text);
    const ok = await runVerify(path.join(dir, 'ok.jsonl'), pem);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('result: OK');

    writeFileSync(path.join(dir, 'bad.jsonl'), text.replace('"rec-4"', '"rec-X"'));
    const bad = await runVerify(path.join(dir, 'bad.jsonl'), pem);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAILED at seq 5/);

    const more = chainEntries({ seq: 10, hash: rows[9]!.hash }, [entry(10), entry(11)]);
    writeFileSync(
      path.join(dir, 'tail.jsonl'),
      writeExport({
        node: 'WMP',
        exportedAt: '2026-11-20T10:03:00.000Z',
        publicKey: toPublicKey(key),
        entries: [...rows, ...more],
        checkpoints: [checkpoint],
      }),
    );
    const tail = await runVerify(path.join(dir, 'tail.jsonl'), pem);
    expect(tail.code).toBe(2);
    expect(tail.stdout).toContain('UNVERIFIED: 2 entries after the last checkpoint');
  });
});
