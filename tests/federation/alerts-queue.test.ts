/**
 * The alert queue under the node's least-privilege login: the schema owner's migration created
 * pg-boss's schema and the alert queues, and the node's login (a member of mcx_app only) can
 * enqueue, fetch and complete jobs there, and still passes the login check.
 */
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inspectLogin } from '@mcx/db';
import { freshMigratedDatabase, nodeLoginUrl } from '@mcx/db/testing';

describe('alert queue (pg-boss 10.4.2) as the node role', () => {
  let boss: PgBoss;
  let loginUrl: string;

  beforeAll(async () => {
    loginUrl = await nodeLoginUrl(await freshMigratedDatabase());
    boss = new PgBoss({ connectionString: loginUrl, migrate: false, schedule: false, supervise: false, max: 2 });
    boss.on('error', () => undefined);
    await boss.start();
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false, wait: true });
  });

  it('the login is least privilege, with the queue schema in place', async () => {
    expect((await inspectLogin(loginUrl)).problems).toEqual([]);
  });

  it('sends (an id comes back), fetches and completes on the migrated queues', async () => {
    const id = await boss.send('mcx-alert-deliver', { deliveryId: 'x' });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [job] = await boss.fetch<{ deliveryId: string }>('mcx-alert-deliver');
    expect(job?.id).toBe(id);
    await boss.complete('mcx-alert-deliver', id!);
    expect((await boss.getJobById('mcx-alert-deliver', id!))?.state).toBe('completed');
  });

  it('a queue the migration did not create takes no job: send returns null', async () => {
    expect(await boss.send('mcx-alert-missing', {})).toBeNull();
  });

  it('the node role may not create a queue', async () => {
    await expect(boss.createQueue('mcx-alert-other')).rejects.toThrow();
  });
});
