import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

import type { Viewer } from '@mcx/auth';
import type { Database } from '@mcx/db';

import type { AuditService } from '../audit/audit-service.js';
import { ErasureStore } from './erasure-store.js';
import type { Kind } from './record-kind.js';
import type { RecordService } from './record-service.js';

/** Retractions whose reason asks for the content to be erased, not just withheld. */
export const ERASING_REASONS = ['ERASURE_REQUEST', 'RETENTION_EXPIRED'] as const;

/** One line of the erasure log: enough to erase the same content again after a restore. */
export interface Erasure {
  owner: string;
  id: string;
  kind: Kind;
  /** The content versions erased (the tombstone stays). */
  versions: number[];
  reason: string;
  erasedAt: string;
}

const PURGE_ACTOR: Viewer = {
  subject: 'mcx-purge',
  issuer: 'mcx-node',
  force: '',
  orgKind: 'police',
  roles: ['operator'],
  tokenKind: 'client',
};

function appendDurably(file: string, line: string): void {
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The purge job. For every record its owner retracted with an erasing reason, it deletes the
 * content versions (the signed tombstone stays) and any linkage keys, audits each erasure and
 * appends it to the erasure log, which lives outside the database so that erasures can be
 * replayed after a restore from backup. The log line is made durable before the delete
 * commits: a crash between them only means replaying an erasure that was asked for.
 */
export async function purgeErased(deps: {
  db: Database;
  audit: AuditService;
  owner: string;
  erasureLog: string;
  now?: () => Date;
}): Promise<Erasure[]> {
  const now = deps.now ?? (() => new Date());
  const store = new ErasureStore(deps.db);
  const done: Erasure[] = [];
  for (const c of await store.retracted(deps.owner)) {
    const reason = (JSON.parse(c.bytes) as { reason?: string }).reason ?? '';
    if (!(ERASING_REASONS as readonly string[]).includes(reason)) continue;
    const erasure = await store.eraseBelow(deps.owner, c.id, c.version, async (tx, versions) => {
      if (versions.length === 0) return null;
      const e: Erasure = {
        owner: deps.owner,
        id: c.id,
        kind: c.kind as Kind,
        versions: versions.sort((x, y) => x - y),
        reason,
        erasedAt: now().toISOString(),
      };
      await deps.audit.recordInTx(tx, {
        action: 'erasure',
        viewer: { ...PURGE_ACTOR, force: deps.owner },
        operation: 'purge',
        recordIds: [`${deps.owner}/${c.id}`],
        outcome: 'success',
        reason,
      });
      appendDurably(deps.erasureLog, JSON.stringify(e));
      return e;
    });
    if (erasure) done.push(erasure);
  }
  return done;
}

/**
 * After a restore: erases again everything in the erasure log that the restored database
 * holds, and retracts (with a fresh signed tombstone) what the backup still shows as live.
 */
export async function replayErasures(deps: {
  db: Database;
  audit: AuditService;
  records: RecordService;
  owner: string;
  erasureLog: string;
}): Promise<number> {
  if (!existsSync(deps.erasureLog)) return 0;
  const lines = readFileSync(deps.erasureLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Erasure);
  const store = new ErasureStore(deps.db);
  let replayed = 0;
  for (const e of lines.filter((l) => l.owner === deps.owner)) {
    const head = await store.head(e.owner, e.id);
    if (head && head.state !== 'RETRACTED') {
      const next = Math.max(head.version, ...e.versions) + 1;
      await deps.records.retract(e.kind, e.id, next, e.reason as 'ERASURE_REQUEST');
    }
    const removed = await store.eraseVersions(e.owner, e.id, e.versions, async (tx, versions) => {
      if (versions.length > 0) {
        await deps.audit.recordInTx(tx, {
          action: 'erasure',
          viewer: { ...PURGE_ACTOR, force: deps.owner },
          operation: 'purge-replay',
          recordIds: [`${e.owner}/${e.id}`],
          outcome: 'success',
          reason: e.reason,
        });
      }
      return versions.length;
    });
    if (removed > 0) replayed++;
  }
  return replayed;
}
