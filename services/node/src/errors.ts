/**
 * The node's GraphQL errors: the codes it answers with (extensions.code), the reasons it gives
 * (extensions.reason), one class per code, and toGraphQLError, the one place where an error from
 * a library (an McxError) becomes a GraphQL error. Messages are fixed text: none repeats a value
 * the caller sent.
 */
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';

import { isMcxError, McxError } from '@mcx/errors';
import { LinkageErrorCode } from '@mcx/linkage';

import { InvalidCursorError } from './modules/records/record-queries.js';
import type { FieldError } from './modules/records/validation.js';

/** Every extensions.code the node's resolvers answer with. */
export const GraphQLErrorCode = {
  BAD_USER_INPUT: ApolloServerErrorCode.BAD_USER_INPUT,
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  AUDIT_UNAVAILABLE: 'AUDIT_UNAVAILABLE',
} as const;
export type GraphQLErrorCode = (typeof GraphQLErrorCode)[keyof typeof GraphQLErrorCode];

/** The node's own reasons (extensions.reason and audit entries), beside the libraries' McxError codes. */
export const NodeErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  AUDIT_UNAVAILABLE: 'AUDIT_UNAVAILABLE',
  AUDIT_CHAIN_BROKEN: 'AUDIT_CHAIN_BROKEN',
  DISCLOSURE_POLICY_INVALID: 'DISCLOSURE_POLICY_INVALID',
  CONSOLE_CONFIG_INVALID: 'CONSOLE_CONFIG_INVALID',
  LINKAGE_NOT_CONFIGURED: 'LINKAGE_NOT_CONFIGURED',
  PEER_ONLY: 'PEER_ONLY',
  LINK_COUNTS_OWNER_ONLY: 'LINK_COUNTS_OWNER_ONLY',
  NOT_FEDERATED: 'NOT_FEDERATED',
  /** The node has as many federated reads in hand as it admits: 503 with Retry-After. */
  FEDERATION_BUSY: 'FEDERATION_BUSY',
  NOT_FOUND: 'NOT_FOUND',
  NOT_DISCLOSABLE: 'NOT_DISCLOSABLE',
  INTEGRITY_FAULT: 'INTEGRITY_FAULT',
  DETAILS_OWNER_REMOTE: 'DETAILS_OWNER_REMOTE',
  DETAILS_SOURCE_NOT_CONFIGURED: 'DETAILS_SOURCE_NOT_CONFIGURED',
  DETAILS_SOURCE_UNAVAILABLE: 'DETAILS_SOURCE_UNAVAILABLE',
  DETAILS_SOURCE_INVALID: 'DETAILS_SOURCE_INVALID',
  DETAILS_NOT_HELD: 'DETAILS_NOT_HELD',
  ASSOCIATE_NAME_RELEASED: 'ASSOCIATE_NAME_RELEASED',
  /** The audit log is longer than the auditExport field carries in one answer: GET /audit/export streams it. */
  EXPORT_TOO_LONG: 'EXPORT_TOO_LONG',
  /** As many audit exports are streaming as the node runs at once: 503 with Retry-After. */
  EXPORT_BUSY: 'EXPORT_BUSY',
} as const;
export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode];

/** Optional detail of a GraphQL error: the input field at fault and a stable reason code. */
export interface ErrorDetail {
  field?: string;
  reason?: string;
}

abstract class NodeGraphQLError extends GraphQLError {
  constructor(code: GraphQLErrorCode, message: string, detail: ErrorDetail) {
    super(message, { extensions: { code, ...detail } });
  }
}

/** The caller's input is wrong (a page size, a cursor, an identity). */
export class BadUserInputError extends NodeGraphQLError {
  constructor(message: string, detail: ErrorDetail = {}) {
    super(GraphQLErrorCode.BAD_USER_INPUT, message, detail);
  }
}

export class UnauthenticatedError extends NodeGraphQLError {
  constructor(message: string, detail: ErrorDetail = {}) {
    super(GraphQLErrorCode.UNAUTHENTICATED, message, detail);
  }
}

/** Refused by a guard or by the owner's disclosure policy. */
export class ForbiddenError extends NodeGraphQLError {
  constructor(message: string, detail: ErrorDetail = {}) {
    super(GraphQLErrorCode.FORBIDDEN, message, detail);
  }
}

export class NotFoundError extends NodeGraphQLError {
  constructor(message: string, detail: ErrorDetail = {}) {
    super(GraphQLErrorCode.NOT_FOUND, message, detail);
  }
}

/** Something the node depends on (the federation, the linkage service, the records system) cannot be used. */
export class ServiceUnavailableError extends NodeGraphQLError {
  constructor(message: string, detail: ErrorDetail = {}) {
    super(GraphQLErrorCode.SERVICE_UNAVAILABLE, message, detail);
  }
}

/** An audit entry could not be committed, so nothing was released. */
export class AuditUnavailableError extends NodeGraphQLError {
  constructor(reason: string, message = 'The read could not be audited, so nothing was released') {
    super(GraphQLErrorCode.AUDIT_UNAVAILABLE, message, { reason });
  }
}

/** The GraphQL error of each GraphQL code, for refusals that carry their code as data. */
export const errorOfCode = {
  [GraphQLErrorCode.BAD_USER_INPUT]: BadUserInputError,
  [GraphQLErrorCode.UNAUTHENTICATED]: UnauthenticatedError,
  [GraphQLErrorCode.FORBIDDEN]: ForbiddenError,
  [GraphQLErrorCode.NOT_FOUND]: NotFoundError,
  [GraphQLErrorCode.SERVICE_UNAVAILABLE]: ServiceUnavailableError,
} as const;

/** A refusal a service has already audited, carrying its GraphQL code, reason and fixed message. */
export function refusalError(refusal: { code: keyof typeof errorOfCode; reason: string; message: string }): GraphQLError {
  return new errorOfCode[refusal.code](refusal.message, { reason: refusal.reason });
}

/** True for the linkage service's errors (LINKAGE_*): the node's problem, never the caller's. */
export function isLinkageError(err: unknown): boolean {
  return isMcxError(err, LinkageErrorCode) || (err instanceof McxError && err.code === NodeErrorCode.LINKAGE_NOT_CONFIGURED);
}

/**
 * The one place a library error becomes a GraphQL error. The linkage service's errors and a
 * broken audit chain are SERVICE_UNAVAILABLE; UNAUTHENTICATED and AUDIT_UNAVAILABLE keep their
 * code; any other McxError reaching here is a guard's refusal, FORBIDDEN. The McxError's code is
 * the reason. A cursor this node did not issue is the caller's input. Anything else is thrown as
 * it is (an unexpected error, answered as internal).
 */
export function toGraphQLError(err: unknown): never {
  if (err instanceof InvalidCursorError) throw new BadUserInputError(err.message);
  if (!(err instanceof McxError)) throw err;
  const reason = err.code;
  if (isLinkageError(err))
    throw new ServiceUnavailableError('The linkage service could not be used; nothing was stored or matched', { reason });
  switch (reason) {
    case NodeErrorCode.AUDIT_CHAIN_BROKEN:
      throw new ServiceUnavailableError(err.message, { reason });
    case NodeErrorCode.UNAUTHENTICATED:
      throw new UnauthenticatedError(err.message, { reason });
    case NodeErrorCode.AUDIT_UNAVAILABLE:
      throw new AuditUnavailableError(reason, err.message);
    default:
      throw new ForbiddenError(err.message, { reason });
  }
}

/** Translates the linkage service's errors (toGraphQLError) and lets every other error through unchanged. */
export function linkageError(err: unknown): never {
  if (isLinkageError(err)) toGraphQLError(err);
  throw err;
}

/** BAD_USER_INPUT for an owner and id (or `owner/id`) that cannot be a record's key, never echoing them. */
export function malformedRecordId(): BadUserInputError {
  return new BadUserInputError('owner and id must be a record key: printable ASCII without spaces, at most 128 characters together', {
    field: 'id',
    reason: 'MALFORMED_RECORD_ID',
  });
}

/** An identity that does not validate: BAD_USER_INPUT naming its first field at fault (never its value). */
export function identityInputError(errors: readonly FieldError[]): BadUserInputError {
  const first = errors[0]!;
  return new BadUserInputError(`identity.${first.field.replace(/^identity\.?/, '')}: ${first.message}`, {
    field: first.field,
    reason: first.code,
  });
}
