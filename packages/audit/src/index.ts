// @mcx/audit: the audit entry model, its hash chain, signed checkpoints, verification, the export
// format and its offline verifier, and fishing alerts. Pure library: no database, no I/O.

export { AuditErrorCode } from './audit-errors.js';

export { AUDIT_ACTIONS, AUDIT_OUTCOMES, MAX_RECORD_IDS, auditEntryProblems, isAuditRecordId, parseAuditEntry } from './entry.js';
export type { AuditAction, AuditOutcome, AuditActor, AuditQuery, AuditEntryInput, AuditEntry, AuditEntryProblem } from './entry.js';

export { GENESIS_HASH, HASH_PATTERN, entryHash, chainEntry, chainEntries } from './chain.js';
export type { ChainHead, StoredEntry } from './chain.js';

export { ENTRY_COLUMNS, entryColumns, columnMismatch } from './columns.js';
export type { EntryColumns } from './columns.js';

export { makeCheckpoint } from './checkpoint.js';

export { verifyChain, verifyChainPaged, verifyContinuation } from './verify.js';
export type { ChainVerification, FirstBad, VerifyFailure, VerifyChainOptions } from './verify.js';

export {
  EXPORT_FORMAT,
  EXPORT_FORMATS,
  exportCheckpointLine,
  exportEndLine,
  exportEntryLine,
  exportHeaderLine,
  writeExport,
  parseExport,
} from './export.js';
export type { ExportFormat, ExportHeader, AuditExport, WriteExportInput } from './export.js';

export { auditKeysFromPem, verifyExport } from './verify-export.js';
export { compareWithPrevious } from './previous.js';
export type { PreviousComparison } from './previous.js';
export { RECEIPTS_FORMAT, compareWithReceipts, parseReceiptsFile, receiptLine, receiptsEndLine, receiptsHeaderLine } from './witness.js';
export type { ReceiptsFile, ReceiptsHeader, WitnessComparison } from './witness.js';

export { countedCheckpoints } from './rotation.js';
export type { CheckpointKeys, CountedCheckpoints } from './rotation.js';
export type { ExportVerification } from './verify-export.js';

export { DEFAULT_CASE_REF_PATTERN, DEFAULT_SAMPLE_SIZE, unusualVolume, unusualHours, caseRefProblems } from './alerts.js';
export type { Alert, AlertKind, AlertInput, WorkingHours } from './alerts.js';
