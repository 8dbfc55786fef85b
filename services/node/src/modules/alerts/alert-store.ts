/** The alert tables (0012_alerts.sql): SQL only. */
import { sql } from 'drizzle-orm';

import type { Database } from '@mcx/db';

import type { Tx } from '../audit/audit-store.js';
import type { AlertBody, AlertModel, CrossMatchPayload, DeliveryRow, OutboxRow } from './alert-model.js';

type Row = Record<string, unknown>;
/** An inbox row with its acknowledgements (who and when), oldest first. */
const WITH_ACKS = sql`select i.*, (select json_agg(json_build_object('by', a.acknowledged_by, 'at', a.acknowledged_at)
  order by a.acknowledged_at, a.acknowledged_by) from alert_acknowledgements a where a.alert_id = i.id) as acks from alert_inbox i`;
const iso = (v: unknown) => new Date(v as string).toISOString();

const toAlert = (r: Row): AlertModel => {
  const body = r.body as AlertBody;
  return {
    id: String(r.id),
    eventNumber: Number(r.event_number),
    kind: r.kind as AlertModel['kind'],
    fromNode: String(r.from_node),
    yourSubjectRefs: body.yourSubjectRefs ?? [],
    episode: body.episode,
    holders: body.holders ?? [],
    threshold: body.threshold ?? null,
    watch: body.watch ?? null,
    receivedAt: new Date(r.received_at as string).toISOString(),
    acknowledgedAt: r.acknowledged_at ? new Date(r.acknowledged_at as string).toISOString() : null,
    acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
    acknowledgements: ((r.acks as { by: string; at: string }[] | null) ?? []).map((a) => ({ by: a.by, at: iso(a.at) })),
    forUser: (r.for_user as string | null) ?? null,
    notAnswered: body.notAnswered ?? [],
  };
};

const toDelivery = (r: Row): DeliveryRow => ({
  id: String(r.id),
  outboxId: String(r.outbox_id),
  recipient: String(r.recipient),
  bytes: String(r.signed_bytes),
  signature: String(r.signature),
  state: r.state as DeliveryRow['state'],
  attempts: Number(r.attempts),
});

export class AlertStore {
  constructor(private readonly db: Database) {}

  /** Inside the episode's own transaction: the outbox row commits with the episode and its audit entry. */
  async addOutbox(tx: Tx, id: string, payload: CrossMatchPayload): Promise<void> {
    await tx.execute(
      sql`insert into alert_outbox (id, kind, payload) values (${id}, 'CROSS_MATCH', ${JSON.stringify(payload)}::jsonb) on conflict (id) do nothing`,
    );
  }

  /** The outbox rows not yet handed to the queue, oldest first. */
  async pendingOutbox(limit: number): Promise<OutboxRow[]> {
    const rows = await this.db.execute(
      sql`select id, kind, payload from alert_outbox where enqueued_at is null order by created_at limit ${limit}`,
    );
    return (rows as unknown as Row[]).map((r) => ({ id: String(r.id), kind: 'CROSS_MATCH', payload: r.payload as CrossMatchPayload }));
  }

  async markEnqueued(id: string, jobId: string): Promise<void> {
    await this.db.execute(sql`update alert_outbox set enqueued_at = now(), job_id = ${jobId} where id = ${id}`);
  }

  async outbox(id: string): Promise<OutboxRow | null> {
    const rows = (await this.db.execute(sql`select id, kind, payload from alert_outbox where id = ${id}`)) as unknown as Row[];
    const r = rows[0];
    return r ? { id: String(r.id), kind: 'CROSS_MATCH', payload: r.payload as CrossMatchPayload } : null;
  }

  /** How many outbox rows wait for the queue (the outbox depth, for operators). */
  async outboxDepth(): Promise<number> {
    const rows = (await this.db.execute(sql`select count(*)::int as n from alert_outbox where enqueued_at is null`)) as unknown as Row[];
    return Number(rows[0]?.n ?? 0);
  }

  /** The strong linkage keys this node holds for one of its subjects (they go only to member nodes). */
  async strongKeys(owner: string, subjectRef: string): Promise<{ kind: string; strength: string; keyVersion: string; key: string }[]> {
    const rows = (await this.db.execute(
      sql`select key_kind as kind, strength, key_version as "keyVersion", key from linkage_keys
          where owner = ${owner} and holder_kind = 'subject' and holder = ${subjectRef} and strength = 'strong' order by key_kind, key_version`,
    )) as unknown as { kind: string; strength: string; keyVersion: string; key: string }[];
    return rows.map((r) => ({ kind: r.kind, strength: r.strength, keyVersion: r.keyVersion, key: r.key }));
  }

  /** One delivery per outbox row and recipient; a second call with the same id changes nothing. */
  async addDelivery(d: Pick<DeliveryRow, 'id' | 'outboxId' | 'recipient' | 'bytes' | 'signature'>): Promise<void> {
    await this.db.execute(
      sql`insert into alert_deliveries (id, outbox_id, recipient, signed_bytes, signature)
          values (${d.id}, ${d.outboxId}, ${d.recipient}, ${d.bytes}, ${d.signature}) on conflict (id) do nothing`,
    );
  }

  async delivery(id: string): Promise<DeliveryRow | null> {
    const rows = (await this.db.execute(sql`select * from alert_deliveries where id = ${id}`)) as unknown as Row[];
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async deliveryAttempt(id: string, error: string | null): Promise<void> {
    await this.db.execute(
      error === null
        ? sql`update alert_deliveries set attempts = attempts + 1, state = 'delivered', delivered_at = now(), last_error = null where id = ${id}`
        : sql`update alert_deliveries set attempts = attempts + 1, last_error = ${error.slice(0, 200)} where id = ${id}`,
    );
  }

  /** A delivery whose episode is no longer readable: kept, never sent, neither pending nor dead (0014). */
  async markWithheld(id: string, why: string): Promise<void> {
    await this.db.execute(
      sql`update alert_deliveries set state = 'withheld', last_error = ${`WITHHELD:${why}`.slice(0, 200)} where id = ${id} and state = 'pending'`,
    );
  }

  async markDead(id: string): Promise<void> {
    await this.db.execute(sql`update alert_deliveries set state = 'dead', dead_at = now() where id = ${id} and state = 'pending'`);
  }

  /** Dead letters, newest first, for operators. */
  async deadDeliveries(limit: number): Promise<DeliveryRow[]> {
    const rows = (await this.db.execute(
      sql`select * from alert_deliveries where state = 'dead' order by dead_at desc limit ${limit}`,
    )) as unknown as Row[];
    return rows.map(toDelivery);
  }

  /**
   * Stores an alert once: 'stored', 'redelivery' when the same sender's same bytes are already
   * there, or 'conflict' when the id is taken by other bytes or another sender (nothing is written).
   * Its event number comes from the counter row (0015), taken in the same transaction: the row
   * stays locked until commit, so numbers are dense and commit in the order they were given.
   */
  async addInbox(a: {
    id: string;
    kind: string;
    fromNode: string;
    body: AlertBody;
    bytes: string | null;
    signature: string | null;
    forUser?: string | null;
  }): Promise<'stored' | 'redelivery' | 'conflict'> {
    const stored = await this.db.transaction(async (tx) => {
      // Checked first under the counter's lock, so a redelivery takes no number.
      const [n] = (await tx.execute(sql`update alert_event_counter set last = last + 1 returning last`)) as unknown as Row[];
      const rows = (await tx.execute(
        sql`insert into alert_inbox (id, event_number, kind, from_node, body, signed_bytes, signature, for_user)
            values (${a.id}, ${Number(n!.last)}, ${a.kind}, ${a.fromNode}, ${JSON.stringify(a.body)}::jsonb, ${a.bytes}, ${a.signature}, ${a.forUser ?? null})
            on conflict (id) do nothing returning id`,
      )) as unknown as Row[];
      // Not stored: the number goes back (the row is still ours), so no gap is left.
      if (rows.length === 0) await tx.execute(sql`update alert_event_counter set last = last - 1`);
      return rows.length === 1;
    });
    if (stored) return 'stored';
    const [held] = (await this.db.execute(
      sql`select kind, from_node, signed_bytes from alert_inbox where id = ${a.id}`,
    )) as unknown as Row[];
    const same =
      held !== undefined &&
      String(held.kind) === a.kind &&
      String(held.from_node) === a.fromNode &&
      ((held.signed_bytes as string | null) ?? null) === a.bytes;
    return same ? 'redelivery' : 'conflict';
  }

  /**
   * The alerts after an event number that `reader` may see, oldest first: the node's own, and
   * the WATCH alerts of the reader's own watches (all of them with `everyone`, for auditors).
   * `user` is the reader as ownerOf gives it (issuer and subject), never a subject alone.
   */
  async inbox(after: number, first: number, reader: { user: string; everyone: boolean }): Promise<{ nodes: AlertModel[]; last: number }> {
    const rows = (await this.db.execute(
      sql`${WITH_ACKS} where event_number > ${after}
          and (for_user is null or for_user = ${reader.user} or ${reader.everyone})
          order by event_number limit ${first}`,
    )) as unknown as Row[];
    const [last] = (await this.db.execute(sql`select last from alert_event_counter`)) as unknown as Row[];
    return { nodes: rows.map(toAlert), last: Number(last?.last ?? 0) };
  }

  /** Whose an alert is (null: the node's), or undefined when there is none. */
  async alertOwner(id: string): Promise<string | null | undefined> {
    const [r] = (await this.db.execute(sql`select for_user from alert_inbox where id = ${id}`)) as unknown as Row[];
    return r ? ((r.for_user as string | null) ?? null) : undefined;
  }

  /** Records `by`'s acknowledgement (ownerOf: each reader's once, with its time); the inbox row keeps the first. */
  async acknowledge(id: string, by: string): Promise<AlertModel | null> {
    const found = await this.db.transaction(async (tx) => {
      const rows = (await tx.execute(
        sql`update alert_inbox set acknowledged_at = coalesce(acknowledged_at, now()), acknowledged_by = coalesce(acknowledged_by, ${by})
            where id = ${id} returning id`,
      )) as unknown as Row[];
      if (!rows[0]) return false;
      await tx.execute(sql`insert into alert_acknowledgements (alert_id, acknowledged_by) values (${id}, ${by}) on conflict do nothing`);
      return true;
    });
    return found ? this.inboxAlert(id) : null;
  }

  /** Inbox alerts not yet handed to the webhook queue, in event order. */
  async pendingWebhooks(limit: number): Promise<string[]> {
    const rows = (await this.db.execute(
      sql`select id from alert_inbox where webhook_enqueued_at is null order by event_number limit ${limit}`,
    )) as unknown as Row[];
    return rows.map((r) => String(r.id));
  }

  async inboxAlert(id: string): Promise<AlertModel | null> {
    const rows = (await this.db.execute(sql`${WITH_ACKS} where i.id = ${id}`)) as unknown as Row[];
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async webhookState(id: string, state: 'enqueued' | 'delivered' | 'dead'): Promise<void> {
    const column = { enqueued: sql`webhook_enqueued_at`, delivered: sql`webhook_delivered_at`, dead: sql`webhook_dead_at` }[state];
    await this.db.execute(sql`update alert_inbox set ${column} = coalesce(${column}, now()) where id = ${id}`);
  }

  /** Where delivery stands, for operators: counts, and the dead letters newest first. */
  async deliveryStatus(limit: number) {
    const [c] = (await this.db.execute(
      sql`select (select count(*)::int from alert_outbox where enqueued_at is null) as outbox,
                 (select count(*)::int from alert_deliveries where state = 'pending') as pending,
                 (select count(*)::int from alert_inbox where webhook_dead_at is not null) as webhook_dead`,
    )) as unknown as Row[];
    const dead = (await this.db.execute(
      sql`select id, recipient, attempts, last_error, dead_at from alert_deliveries where state = 'dead' order by dead_at desc limit ${limit}`,
    )) as unknown as Row[];
    return {
      outboxDepth: Number(c?.outbox ?? 0),
      pendingDeliveries: Number(c?.pending ?? 0),
      webhookDeadLetters: Number(c?.webhook_dead ?? 0),
      deadLetters: dead.map((r) => ({
        id: String(r.id),
        recipient: String(r.recipient),
        attempts: Number(r.attempts),
        lastError: (r.last_error as string | null) ?? null,
        deadAt: r.dead_at ? new Date(r.dead_at as string).toISOString() : null,
      })),
    };
  }
}
