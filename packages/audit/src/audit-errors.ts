/**
 * Stable codes of the errors @mcx/audit throws. A verification failure is not thrown: it is a
 * `VerifyFailure` reason in the result of `verifyChain`.
 */
export const AuditErrorCode = {
  /** An entry handed to the chain does not pass `auditEntryProblems`. */
  AUDIT_ENTRY_INVALID: 'AUDIT_ENTRY_INVALID',
  /** A previous head or a checkpoint head is not { seq >= 0, hash: 64 lower-case hex }. */
  CHAIN_HEAD_INVALID: 'CHAIN_HEAD_INVALID',
  /** An audit export line is not what the format says; the message names the line, never its content. */
  EXPORT_MALFORMED: 'EXPORT_MALFORMED',
  EXPORT_UNSUPPORTED_FORMAT: 'EXPORT_UNSUPPORTED_FORMAT',
  ALERT_OPTIONS_INVALID: 'ALERT_OPTIONS_INVALID',
} as const;
/** One audit code. */
export type AuditErrorCode = (typeof AuditErrorCode)[keyof typeof AuditErrorCode];
