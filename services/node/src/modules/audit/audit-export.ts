/**
 * The audit log as an export for `mcx audit verify`, a chunk at a time: the header, the entries a
 * page at a time through one cursor (one snapshot, never the whole log in memory), the checkpoints
 * the same way, then the `end` line counting both (a file cut short in transfer has none). The
 * checkpoints written are those signed before the entries are read: the log only grows, so the
 * entries read hold everything each of them signs, and an export taken while the node is busy
 * verifies as one taken while it was idle. Every one of them is written, whatever the entries read:
 * a log cut short in the database is shown up by a checkpoint over entries it no longer holds.
 */
import {
  exportCheckpointLine,
  exportEndLine,
  exportEntryLine,
  exportHeaderLine,
  receiptLine,
  receiptsEndLine,
  receiptsHeaderLine,
} from '@mcx/audit';
import { receiptsDigest, signReceiptsSeal, type SigningKey, type VerifyKey } from '@mcx/signing';

import { NodeErrorCode, ServiceUnavailableError } from '../../errors.js';
import type { AuditStore } from './audit-store.js';
import type { ReceiptReads } from './receipt-reads.js';

/** Entries per page of the cursor (and per chunk written). */
const EXPORT_PAGE = 500;

/**
 * The most entries the `auditExport` field builds into one answer (about 80 MiB of text, held
 * twice while the answer is written). A longer log is refused with EXPORT_TOO_LONG, pointing at
 * GET /audit/export, instead of filling the node's memory: past about 600,000 entries the text
 * would not even fit in one JavaScript string.
 */
export const EXPORT_FIELD_MAX_ENTRIES = 100_000;

type ExportHeader = { node: string; exportedAt: string; publicKey: VerifyKey<'audit-checkpoint'> };

export async function* exportChunks(
  store: Pick<AuditStore, 'pages' | 'checkpointPages' | 'lastCheckpointSize'>,
  header: ExportHeader,
): AsyncGenerator<string> {
  const signed = await store.lastCheckpointSize();
  yield `${exportHeaderLine(header)}\n`;
  let entries = 0;
  for await (const page of store.pages(EXPORT_PAGE)) {
    if (page.length === 0) continue;
    entries += page.length;
    yield `${page.map(exportEntryLine).join('\n')}\n`;
  }
  let checkpoints = 0;
  for await (const page of store.checkpointPages(signed, EXPORT_PAGE)) {
    if (page.length === 0) continue;
    checkpoints += page.length;
    yield `${page.map(exportCheckpointLine).join('\n')}\n`;
  }
  yield `${exportEndLine(entries, checkpoints)}\n`;
}

/** The whole export as one string, for a log of at most EXPORT_FIELD_MAX_ENTRIES entries. */
export async function exportWhole(
  store: Pick<AuditStore, 'pages' | 'checkpointPages' | 'lastCheckpointSize' | 'head'>,
  header: ExportHeader,
): Promise<string> {
  const entries = (await store.head())?.seq ?? 0;
  if (entries > EXPORT_FIELD_MAX_ENTRIES)
    throw new ServiceUnavailableError(
      `The audit log holds ${entries} entries, more than the ${EXPORT_FIELD_MAX_ENTRIES} one answer carries: GET /audit/export streams it`,
      { reason: NodeErrorCode.EXPORT_TOO_LONG },
    );
  const chunks: string[] = [];
  for await (const chunk of exportChunks(store, header)) chunks.push(chunk);
  return chunks.join('');
}

/**
 * The receipts one member gave this node, as a receipts file (`mcx-audit-receipts/2`) for that
 * member's auditors: `mcx audit verify <its export> --receipts <file> --holder-key <this node>=<pem>`
 * checks its log against them. A chunk at a time through one cursor, ending with the `end` line
 * counting them and sealing them with this node's audit-checkpoint key: a receipt left out of the
 * file on its way to them shows.
 */
export async function* receiptChunks(
  reads: Pick<ReceiptReads, 'pagesFrom'>,
  header: { holder: string; from: string; exportedAt: string },
  auditKey: SigningKey<'audit-checkpoint'>,
): AsyncGenerator<string> {
  const digest = receiptsDigest();
  const headerLine = receiptsHeaderLine(header);
  digest.add(headerLine);
  yield `${headerLine}\n`;
  let receipts = 0;
  for await (const page of reads.pagesFrom(header.from, EXPORT_PAGE)) {
    if (page.length === 0) continue;
    receipts += page.length;
    const lines = page.map(receiptLine);
    for (const line of lines) digest.add(line);
    yield `${lines.join('\n')}\n`;
  }
  yield `${receiptsEndLine(receipts, signReceiptsSeal({ ...header, receipts, digest: digest.digest() }, auditKey))}\n`;
}
