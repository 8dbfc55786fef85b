import type { StoredEntry } from '@mcx/audit';
import { exportPublicKeyPem, toPublicKey, verifyCheckpoint, type SigningKey, type VerifyKey } from '@mcx/signing';

import type { AuditStore } from './audit-store.js';

export interface AuditViewsDeps {
  store: AuditStore;
  node: string;
  auditKey: SigningKey<'audit-checkpoint'>;
  retiredAuditKeys?: readonly VerifyKey<'audit-checkpoint'>[];
  isRevokedKey?: (kid: string) => boolean;
}

/** A receipt's payload as the member signed it (the federation client verified it when it arrived). */
function receiptPayload(jws: string): { node?: string; checkpoint?: string | null; at?: string; entry?: { id?: string } } {
  try {
    return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as ReturnType<typeof receiptPayload>;
  } catch {
    return {};
  }
}

/** The size and time a member's checkpoint states, read without its key (shown, never trusted). */
function checkpointClaim(jws: string | null | undefined): { size: number | null; at: string | null } {
  if (!jws) return { size: null, at: null };
  const p = receiptPayload(jws) as { size?: unknown; at?: unknown };
  return { size: typeof p.size === 'number' ? p.size : null, at: typeof p.at === 'string' ? p.at : null };
}

/** What the auditors' pages read besides the entries: the chain's standing, a child's readers, disclosures and hours. */
export class AuditViews {
  constructor(private readonly deps: AuditViewsDeps) {}

  /** The head, the last signed checkpoint (verified with this node's key), the public key, and the receipts held. */
  async status() {
    const { store, node, auditKey } = this.deps;
    const key = toPublicKey(auditKey);
    const [head, jws, receipts] = await Promise.all([store.head(), store.latestCheckpointJws(), store.receipts.latest(node, 50)]);
    const checkpoint = jws ? verifyCheckpoint(jws, key) : null;
    return {
      node,
      entries: head?.seq ?? 0,
      lastCheckpoint: checkpoint ? { size: checkpoint.size, headHash: checkpoint.headHash, signedAt: checkpoint.at } : null,
      // The current key first, then those rotations retired: what `mcx audit verify` needs for the whole log.
      publicKeyPem: [key, ...(this.deps.retiredAuditKeys ?? []).filter((k) => !this.deps.isRevokedKey?.(k.kid))]
        .map(exportPublicKeyPem)
        .join(''),
      kid: key.kid,
      // A node that is its own member gives itself receipts: those witness nothing, and are left out.
      witnesses: receipts.map((r) => {
        const p = receiptPayload(r.receiptJws);
        const cp = checkpointClaim(p.checkpoint);
        return {
          peer: r.peer,
          peerEntryId: r.peerEntryId,
          ourSeq: r.ourSeq,
          checkpointSize: cp.size,
          checkpointAt: cp.at,
          at: p.at ?? null,
        };
      }),
    };
  }

  /** Whether this node holds any receipt `from` gave it (GET /audit/receipts refuses a member it holds none from). */
  holdsReceiptsFrom(from: string): Promise<boolean> {
    return this.deps.store.receipts.holdsFrom(from);
  }

  /** Every successful read of any of this node's records of these subjects. */
  async readsOfSubjects(subjectRefs: string[], page: { first: number; afterSeq: number | null }) {
    const ids = await this.deps.store.recordIdsOfSubjects(this.deps.node, subjectRefs);
    const rows: StoredEntry[] = await this.deps.store.readsOf(ids, page);
    return { recordIds: ids, rows };
  }

  disclosureCounts(from: Date, to: Date) {
    return this.deps.store.disclosureCounts(this.deps.node, from, to);
  }

  readsByHour(from: Date, to: Date) {
    return this.deps.store.readsByHour(from, to);
  }
}
