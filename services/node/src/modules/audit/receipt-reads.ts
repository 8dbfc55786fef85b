/**
 * The receipts other members gave this node for its federated reads (audit_receipts): its
 * witnesses. The table grows by a receipt per member asked, every read, so nothing here reads it
 * whole: the newest few for the integrity page, and one member's through a cursor for its auditors.
 */
import { desc, ne } from 'drizzle-orm';

import { schema, type Database } from '@mcx/db';

const { auditReceipts } = schema;

export interface HeldReceipt {
  peer: string;
  peerEntryId: string;
  receiptJws: string;
  ourSeq: number | null;
}

export class ReceiptReads {
  constructor(private readonly db: Database) {}

  /** The newest `limit` receipts from members other than `self` (its own witness nothing), oldest first: read backwards along the key. */
  async latest(self: string, limit: number): Promise<HeldReceipt[]> {
    const rows = await this.db
      .select()
      .from(auditReceipts)
      .where(ne(auditReceipts.peer, self))
      .orderBy(desc(auditReceipts.id))
      .limit(limit);
    return rows.reverse().map(({ peer, peerEntryId, receiptJws, ourSeq }) => ({ peer, peerEntryId, receiptJws, ourSeq }));
  }

  /** Whether any receipt from `peer` is held (one step along the (peer, id) index). */
  async holdsFrom(peer: string): Promise<boolean> {
    const [row] = await this.db.$client<{ held: boolean }[]>`select exists (select 1 from audit_receipts where peer = ${peer}) as held`;
    return row?.held === true;
  }

  /** Every receipt `peer` gave, as stored (oldest first), `size` at a time through one cursor. */
  async *pagesFrom(peer: string, size: number): AsyncGenerator<string[]> {
    const query = this.db.$client<{ jws: string }[]>`select receipt_jws as jws from audit_receipts where peer = ${peer} order by id`;
    for await (const rows of query.cursor(size)) yield rows.map((r) => r.jws);
  }
}
