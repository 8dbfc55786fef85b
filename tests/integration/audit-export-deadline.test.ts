// GET /audit/export's time limit (MCX_AUDIT_EXPORT_MAX_SECONDS): a client that reads a little at a
// time, never long enough apart for the stall limit, would otherwise hold the export's database
// connection and snapshot, and an auditor's turn, for as long as it liked. One real node; the
// chunk source is made endless so the export cannot finish first: the route, its guard, its audit
// entry and the HTTP stream are the node's own.
import { request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseExport } from '@mcx/audit';
import { devAudience } from '@mcx/auth';

import { seededNode } from '../testkit/audit.js';
import type { TestNode } from '../testkit/node.js';

let t: TestNode;
let auditors: string[];

beforeAll(async () => {
  ({ t } = await seededNode('WMP', {
    MCX_AUDIT_CHECKPOINT_SECONDS: '0',
    MCX_AUDIT_EXPORT_STALL_SECONDS: '3',
    MCX_AUDIT_EXPORT_MAX_SECONDS: '5',
  }));
  const mint = (subject: string) =>
    t.issuer.mintToken({
      roles: ['auditor'],
      force: 'WMP',
      orgKind: 'police',
      subject,
      kind: 'user',
      ttlSec: 600,
      audience: devAudience('WMP'),
    });
  auditors = [await mint('dpo-deadline-1'), await mint('dpo-deadline-2')];
}, 120_000);

afterAll(() => t?.close());

const exportUrl = () => new URL('/audit/export', t.node.url);
const count = (text: string) => t.logs().split(text).length - 1;

describe('GET /audit/export: the time limit', () => {
  it('cuts an export still running at the limit, however steadily its client reads; the turn comes back', async () => {
    const audit = t.node.app.services.audit;
    const real = audit.exportChunks.bind(audit);
    // Endless: the export only ends when the node cuts it.
    audit.exportChunks = async function* () {
      for (;;) yield `${'x'.repeat(64 * 1024)}\n`;
    };
    const overdue = count('audit export cut: it ran past its time limit');
    const stalls = count('audit export cut: nothing taken for the stall limit');
    const started = performance.now();
    let received = 0;
    let cutAfter = 0;
    try {
      // A steady reader: 4 x 64 KiB every 100 ms, fast enough that the node is asked for more well within 3 s
      // (the stall limit) whatever the sockets' buffers hold. Once the node has cut the export, it reads
      // what its buffers still hold, to the end of the stream.
      const outcome = await new Promise<'aborted' | 'end'>((resolve, reject) => {
        const req = request(exportUrl(), { headers: { authorization: `Bearer ${auditors[0]}` } }, (res) => {
          expect(res.statusCode).toBe(200);
          res.pause();
          const sip = setInterval(() => {
            if (count('audit export cut: it ran past its time limit') > overdue) {
              cutAfter = performance.now() - started;
              clearInterval(sip);
              res.resume();
              return;
            }
            for (let i = 0; i < 4; i++) {
              const chunk = res.read(64 * 1024) as Buffer | null;
              if (chunk) received += chunk.length;
            }
          }, 100);
          res.on('close', () => {
            clearInterval(sip);
            resolve(res.complete ? 'end' : 'aborted');
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(outcome).toBe('aborted');
    } finally {
      audit.exportChunks = real;
    }
    // Cut at 5 s (checked every 3 s, the stall limit): so between 5 and about 8 s, and by the time limit, not as a stall.
    expect(cutAfter).toBeGreaterThan(4500);
    expect(cutAfter).toBeLessThan(15_000);
    // It was reading all along (megabytes of it), and without the limit it would go on for ever: the test
    // times out when the limit is switched off.
    expect(received).toBeGreaterThan(1024 * 1024);
    expect(count('audit export cut: it ran past its time limit')).toBe(overdue + 1);
    expect(count('audit export cut: nothing taken for the stall limit')).toBe(stalls);
    expect(t.logs()).not.toContain('audit export cut part-way');

    // Both turns are free again (the cut auditor's own included), and a whole log still exports within the limit.
    const both = await Promise.all(auditors.map((a) => fetch(exportUrl(), { headers: { authorization: `Bearer ${a}` } })));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    const texts = await Promise.all(both.map((r) => r.text()));
    for (const text of texts) expect(parseExport(text).entries.length).toBeGreaterThan(0);
  });
});
