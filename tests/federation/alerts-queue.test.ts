/**
 * The alert queue under the node's least-privilege login: the schema owner's migration created
 * pg-boss's schema and the alert queues, and the node's login (a member of mcx_app only) can
 * enqueue, fetch and complete jobs there, and still passes the login check. It has what pg-boss
 * 10.4.2 needs at run time (its own maintenance statements run) and nothing more: it can neither
 * drop nor truncate the queue tables, nor write the queue list, schedules or the version row
 * beyond the maintenance times, nor touch a queue's partition except through pgboss.job.
 */
import { createRequire } from 'node:module';

import PgBoss from 'pg-boss';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inspectLogin } from '@mcx/db';
import { freshMigratedDatabase, nodeLoginUrl } from '@mcx/db/testing';

/** pg-boss's own SQL (src/plans.js): the statements its supervisor runs at run time. */
const plans = createRequire(import.meta.url)('pg-boss/src/plans.js') as {
  locked(schema: string, query: string): string;
  failJobsByTimeout(schema: string): string;
  archive(schema: string, completed: string, failed?: string): string;
  drop(schema: string, interval: string): string;
  trySetMaintenanceTime(schema: string): string;
  trySetMonitorTime(schema: string): string;
  countStates(schema: string): string;
};

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

  it('runs pg-boss’s own maintenance as the node role: expiry, archiving, dropping, the maintenance and monitor times, state counts', async () => {
    const sql = postgres(loginUrl, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(plans.locked('pgboss', plans.failJobsByTimeout('pgboss')));
      await sql.unsafe(plans.locked('pgboss', plans.archive('pgboss', '1 second', '1 second')));
      await sql.unsafe(plans.locked('pgboss', plans.drop('pgboss', '1 second')));
      await sql.unsafe(plans.trySetMaintenanceTime('pgboss'), [0]);
      await sql.unsafe(plans.trySetMonitorTime('pgboss'), [0]);
      expect((await sql.unsafe(plans.countStates('pgboss'))).length).toBeGreaterThan(0);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('cannot drop or truncate the queue tables, nor write the queue list, schedules or version, nor reach a partition directly', async () => {
    const sql = postgres(loginUrl, { max: 1, onnotice: () => {} });
    try {
      const [part] = await sql<{ p: string }[]>`select partition_name as p from pgboss.queue where name = 'mcx-alert-deliver'`;
      const refused = [
        'drop table pgboss.job',
        'drop table pgboss.archive',
        'drop table pgboss.queue',
        'truncate pgboss.job',
        'truncate pgboss.archive',
        'truncate pgboss.queue',
        `drop table pgboss.${part!.p}`,
        `truncate pgboss.${part!.p}`,
        `delete from pgboss.${part!.p}`,
        `select count(*) from pgboss.${part!.p}`,
        "insert into pgboss.queue (name, policy) values ('mcx-alert-other', 'standard')",
        "update pgboss.queue set retry_limit = 0 where name = 'mcx-alert-deliver'",
        "delete from pgboss.queue where name = 'mcx-alert-deliver'",
        "insert into pgboss.schedule (name, cron) values ('mcx-alert-deliver', '* * * * *')",
        "insert into pgboss.subscription (event, name) values ('e', 'mcx-alert-deliver')",
        'delete from pgboss.version',
        'update pgboss.version set version = 99',
        'update pgboss.archive set priority = 1',
        "select pgboss.delete_queue('mcx-alert-deliver')",
        "select pgboss.create_queue('mcx-alert-other', '{}'::json)",
      ];
      for (const statement of refused) {
        const outcome = await sql.unsafe(statement).then(
          () => 'done',
          (err: Error) => err.message,
        );
        expect(`${statement}: ${outcome}`).toMatch(/: (permission denied|must be owner)/);
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
