/**
 * The audit log as an export for `mcx audit verify`, a chunk at a time: the header, the entries a
 * page at a time through one cursor (one snapshot, never the whole log in memory), then the
 * checkpoints. The checkpoints are read before the entries: the log only grows, so the entries
 * read next hold everything each checkpoint signs, and an export taken while the node is busy
 * verifies as one taken while it was idle.
 */
import { exportCheckpointLine, exportEntryLine, exportHeaderLine } from '@mcx/audit';
import type { VerifyKey } from '@mcx/signing';

import { NodeErrorCode, ServiceUnavailableError } from '../../errors.js';
import type { AuditStore } from './audit-store.js';

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

export async function* exportChunks(store: Pick<AuditStore, 'checkpoints' | 'pages'>, header: ExportHeader): AsyncGenerator<string> {
  const checkpoints = await store.checkpoints();
  yield `${exportHeaderLine(header)}\n`;
  for await (const page of store.pages(EXPORT_PAGE)) {
    if (page.length > 0) yield `${page.map(exportEntryLine).join('\n')}\n`;
  }
  if (checkpoints.length > 0) yield `${checkpoints.map(exportCheckpointLine).join('\n')}\n`;
}

/** The whole export as one string, for a log of at most EXPORT_FIELD_MAX_ENTRIES entries. */
export async function exportWhole(store: Pick<AuditStore, 'checkpoints' | 'pages' | 'head'>, header: ExportHeader): Promise<string> {
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
