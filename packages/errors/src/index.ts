/** A library error: a stable `code` from the throwing package's declared code object, and a message for operators. */
export interface McxError<C extends string = string> extends Error {
  /** A stable, machine-readable code. Never changes once published. */
  readonly code: C;
}

/** `new McxError(code, message)` infers `C` from the code; `prototype` types what `instanceof` narrows to. */
export interface McxErrorConstructor {
  new <C extends string = string>(code: C, message: string, options?: { cause?: unknown }): McxError<C>;
  readonly prototype: McxError;
}

/**
 * One error hierarchy for every MCX library (signing, auth, linkage, federation).
 * Callers switch on the stable string `code`, never on the message (as jose's JOSEError).
 * Each package declares its codes as a const object (see `TokenErrorCode` in @mcx/auth), so a
 * search for a code finds where it is defined; `isMcxError` narrows to one package's codes.
 */
// A generic class would narrow `err instanceof McxError` to McxError<any>, making `err.code` any
// everywhere it is read; a constructor whose prototype is McxError<string> keeps it a string.
export const McxError: McxErrorConstructor = class McxError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
} as McxErrorConstructor;

/** True when `err` is an McxError with one of `codes` (callers switch on `err.code` after this). */
export function isMcxError<C extends string>(err: unknown, codes: Readonly<Record<C, C>>): err is McxError<C> {
  return err instanceof McxError && Object.hasOwn(codes, err.code) && (codes as Readonly<Record<string, string>>)[err.code] === err.code;
}

/** Thrown at the end of an exhaustive switch; the compiler proves it unreachable. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
    this.name = 'UnreachableCaseError';
  }
}

/** Codes carried in `extensions.code` of every GraphQL error the node throws. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  AUDIT_UNAVAILABLE: 'AUDIT_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  NOT_FOUND: 'NOT_FOUND',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
