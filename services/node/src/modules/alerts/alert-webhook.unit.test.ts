/** The signed webhook on loopback HTTP: a redirect is a failure, and the signed alert goes nowhere else. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { AlertModel } from './alert-model.js';
import { AlertWebhook, WebhookRefused } from './alert-webhook.js';

const alert: AlertModel = {
  id: '00000000-0000-8000-8000-000000000001',
  eventNumber: 1,
  kind: 'CROSS_MATCH',
  fromNode: 'GMP',
  yourSubjectRefs: ['WMP-SUBJ-1'],
  episode: {
    owner: 'GMP',
    id: '00000000-0000-4000-8000-000000000002',
    ownerReference: null,
    contact24x7: null,
    riskGrade: null,
    reportedAt: null,
  },
  holders: [],
  threshold: null,
  watch: null,
  receivedAt: '2026-11-30T00:00:00.000Z',
  acknowledgedAt: null,
  acknowledgedBy: null,
  acknowledgements: [],
  forUser: null,
  notAnswered: [],
};

const servers: Server[] = [];

async function serve(handle: (method: string, body: string) => { status: number; headers?: Record<string, string> }): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const { status, headers } = handle(req.method ?? '', body);
      res.writeHead(status, headers).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('the alert webhook', () => {
  it.each([307, 308, 302, 301])('treats a %d redirect as a failure and never re-sends the signed alert where it points', async (status) => {
    const elsewhere: string[] = [];
    const target = await serve((method, body) => {
      elsewhere.push(`${method} ${body}`);
      return { status: 200 };
    });
    const url = await serve(() => ({ status, headers: { location: target } }));
    const webhook = new AlertWebhook({ url, forceCode: 'WMP', sign: (view) => ({ bytes: JSON.stringify(view), signature: 'sig' }) });
    await expect(webhook.send(alert)).rejects.toThrow(WebhookRefused);
    await expect(webhook.send(alert)).rejects.toThrow(`webhook answered ${status}`);
    expect(elsewhere).toEqual([]);
  });

  it('takes a 2xx as delivered', async () => {
    const got: string[] = [];
    const url = await serve((_method, body) => {
      got.push(body);
      return { status: 204 };
    });
    const webhook = new AlertWebhook({ url, forceCode: 'WMP', sign: (view) => ({ bytes: JSON.stringify(view), signature: 'sig' }) });
    await webhook.send(alert);
    expect(got).toHaveLength(1);
  });
});
