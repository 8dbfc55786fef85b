/**
 * The audit log as an export for `mcx audit verify`, a chunk at a time: the header, the entries a
 * page at a time through one cursor (one snapshot, never the whole log in memory), then the
 * checkpoints. The checkpoints are read before the entries: the log only grows, so the entries
 * read next hold everything each checkpoint signs, and an export taken while the node is busy
 * verifies as one taken while it was idle.
 */
import { exportCheckpointLine, exportEntryLine, exportHeaderLine } from '@mcx/audit';
import type { VerifyKey } from '@mcx/signing';

import type { AuditStore } from './audit-store.js';

/** Entries per page of the cursor (and per chunk written). */
const EXPORT_PAGE = 500;

export async function* exportChunks(
  store: Pick<AuditStore, 'checkpoints' | 'pages'>,
  header: { node: string; exportedAt: string; publicKey: VerifyKey<'audit-checkpoint'> },
): AsyncGenerator<string> {
  const checkpoints = await store.checkpoints();
  yield `${exportHeaderLine(header)}\n`;
  for await (const page of store.pages(EXPORT_PAGE)) {
    if (page.length > 0) yield `${page.map(exportEntryLine).join('\n')}\n`;
  }
  if (checkpoints.length > 0) yield `${checkpoints.map(exportCheckpointLine).join('\n')}\n`;
}
