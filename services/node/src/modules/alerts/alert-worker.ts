/**
 * Delivery of alerts through pg-boss 10.4.2 (the queue's schema and queues come from the schema
 * owner's migration 0012_alerts.sql; pg-boss runs with migrate: false and may create nothing).
 * The relay moves committed outbox rows to the queue, each job's id being its outbox row's id,
 * so a relay that dies between the enqueue and marking the row enqueues nothing twice. Every
 * enqueue is checked: pg-boss answers null, not an error, for a queue that does not exist.
 * Jobs retry with exponential backoff (from 2 s, sixteen times: more than 24 hours), then go
 * to the dead-letter queue, where the delivery is marked dead for operators.
 */
import PgBoss from 'pg-boss';

import { McxError } from '@mcx/errors';
import type { Logger } from '@mcx/logger';

import { RetryLater, type AlertDispatchService } from './alert-dispatch-service.js';
import { ALERT_QUEUES, AlertErrorCode } from './alert-model.js';
import type { AlertStore } from './alert-store.js';
import type { AlertWebhook } from './alert-webhook.js';

/**
 * The relay's own round, for committed outbox rows that no publish here poked it for (another
 * replica's whose worker stopped, a poke lost to a crash between the commit and the poke).
 */
const RELAY_MS = 2_000;
/**
 * How often each queue is asked for jobs that no enqueue here announced: retries whose backoff has
 * run out, another replica's jobs, the dead-letter queue. A job this worker enqueues wakes its
 * queue's worker at once (pg-boss notifyWorker), so the poll is not what a new alert waits for.
 * Each poll is a query: at 0.5 s, three queues cost an idle node about 7 ms of CPU a second.
 */
const POLL_SECONDS = 2;
/** Jobs taken per fetch, run side by side: pg-boss waits out its polling interval after each fetch. */
const BATCH = 16;

export interface AlertWorkerDeps {
  /** The node's login: pg-boss keeps its own small pool. */
  databaseUrl: string;
  store: AlertStore;
  dispatch: AlertDispatchService;
  logger: Logger;
  /** The force system's webhook; null: none configured. */
  webhook: AlertWebhook | null;
}

type Job<T> = { id: string; data: T };

export class AlertWorker {
  private boss: PgBoss | null = null;
  private timer: NodeJS.Timeout | null = null;
  private relaying: Promise<void> | null = null;
  private again = false;
  /** Each queue's pg-boss worker id, to wake it when this worker enqueues a job on that queue. */
  private readonly workers = new Map<string, string>();

  constructor(private readonly deps: AlertWorkerDeps) {}

  async start(): Promise<void> {
    const boss = new PgBoss({ connectionString: this.deps.databaseUrl, migrate: false, schedule: false, supervise: true, max: 3 });
    boss.on('error', (err: unknown) => this.deps.logger.error({ err }, 'alert queue error'));
    await boss.start();
    this.boss = boss;
    await this.work<{ outboxId: string }>(boss, ALERT_QUEUES.crossMatch, (job) => this.crossMatch(job));
    await this.work<{ deliveryId: string }>(boss, ALERT_QUEUES.deliver, (job) => this.deliver(job));
    if (this.deps.webhook) await this.work<{ alertId: string }>(boss, ALERT_QUEUES.webhook, (job) => this.webhook(job));
    await this.work<{ deliveryId?: string; alertId?: string; outboxId?: string }>(boss, ALERT_QUEUES.dead, async (job) => {
      if (job.data.deliveryId) await this.deps.dispatch.dead(job.data.deliveryId);
      if (job.data.outboxId) await this.deps.dispatch.deadCrossMatch(job.data.outboxId);
      if (job.data.alertId) await this.deps.store.webhookState(job.data.alertId, 'dead');
      this.deps.logger.warn({ queue: ALERT_QUEUES.dead, job: job.id }, 'alert job dead-lettered');
    });
    this.timer = setInterval(() => this.poke(), RELAY_MS);
    this.timer.unref();
    this.poke();
  }

  /**
   * Runs up to BATCH jobs of a queue side by side. A job that throws is failed on its own (the
   * queue retries it with backoff); pg-boss completes the rest, and only jobs still active.
   */
  private async work<T extends object>(boss: PgBoss, queue: string, run: (job: Job<T>) => Promise<void>): Promise<void> {
    const id = await boss.work<T>(queue, { batchSize: BATCH, pollingIntervalSeconds: POLL_SECONDS }, async (jobs) => {
      const results = await Promise.allSettled(jobs.map((job) => run(job)));
      for (const [i, r] of results.entries()) {
        if (r.status === 'fulfilled') continue;
        const reason = r.reason instanceof Error ? r.reason.message : 'failed';
        await boss.fail(queue, jobs[i]!.id, { message: reason.slice(0, 200) });
      }
      // A full batch: there may be more waiting (a backlog after a restart, retries come due), so fetch again now.
      if (jobs.length === BATCH) this.wake(queue);
    });
    this.workers.set(queue, id);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.relaying?.catch(() => undefined);
    const boss = this.boss;
    this.boss = null;
    await boss?.stop({ graceful: true, wait: true, timeout: 5_000 }).catch(() => undefined);
  }

  /** Moves committed outbox rows to the queue now (after a publish), and on a timer. */
  poke(): void {
    if (!this.boss) return;
    if (this.relaying) {
      this.again = true;
      return;
    }
    this.relaying = this.relay()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'alert outbox relay failed'))
      .finally(() => {
        this.relaying = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async relay(): Promise<void> {
    for (const row of await this.deps.store.pendingOutbox(100)) {
      const jobId = await this.enqueue(ALERT_QUEUES.crossMatch, { outboxId: row.id }, row.id);
      await this.deps.store.markEnqueued(row.id, jobId);
    }
    if (!this.deps.webhook) return;
    for (const id of await this.deps.store.pendingWebhooks(100)) {
      await this.enqueue(ALERT_QUEUES.webhook, { alertId: id }, id);
      await this.deps.store.webhookState(id, 'enqueued');
    }
  }

  /** Has the queue's worker fetch now rather than at its next poll. */
  private wake(queue: string): void {
    const worker = this.workers.get(queue);
    if (worker) this.boss?.notifyWorker(worker);
  }

  /** Enqueues with a fixed job id; an id already queued counts as enqueued; anything else without an id is an error. */
  private async enqueue(queue: string, data: object, id: string): Promise<string> {
    const boss = this.boss;
    if (!boss) throw new McxError(AlertErrorCode.ALERT_NOT_ENQUEUED, 'the alert queue is stopped');
    const jobId = (await boss.send(queue, data, { id })) ?? ((await boss.getJobById(queue, id)) ? id : null);
    if (jobId) {
      this.wake(queue);
      return jobId;
    }
    throw new McxError(AlertErrorCode.ALERT_NOT_ENQUEUED, `the alert queue ${queue} returned no job id`);
  }

  private async crossMatch(job: Job<{ outboxId: string }>): Promise<void> {
    const { deliveries, retry } = await this.deps.dispatch.crossMatch(job.data.outboxId);
    for (const id of deliveries) await this.enqueue(ALERT_QUEUES.deliver, { deliveryId: id }, id);
    if (retry) throw new RetryLater(retry);
  }

  private async webhook(job: Job<{ alertId: string }>): Promise<void> {
    const alert = await this.deps.store.inboxAlert(job.data.alertId);
    if (!alert) return;
    await this.deps.webhook!.send(alert);
    await this.deps.store.webhookState(alert.id, 'delivered');
  }

  private async deliver(job: Job<{ deliveryId: string }>): Promise<void> {
    await this.deps.dispatch.deliver(job.data.deliveryId);
  }
}
