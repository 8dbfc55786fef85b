/**
 * Who may do what. Roles add up (a viewer with two roles may do what either may), but no
 * role reaches records and audit at once except through two separate roles.
 *
 * | role         | may                                                                  |
 * |--------------|----------------------------------------------------------------------|
 * | publisher    | `record.write` for its own force only (assertCanWrite), with a client-credentials token only; reads nothing |
 * | investigator | `record.read`, with a user token only                                |
 * | auditor      | `audit.read` only, at its own force's node (RequestAccess); never the records |
 * | operator     | `operator.admin` (keys, trust manifest, retention), at its own force's node (RequestAccess); no records, no audit |
 * | router       | `subgraph.service` and `subgraph.entities`, only with a forwarded user who may `record.read` |
 *
 * The operator is kept out of records and audit because operating a node (a technical
 * role, often a supplier) is not a lawful basis for seeing children's data, and because
 * the audit must be able to show what the operator did.
 */
import { ErrorCode, McxError, UnreachableCaseError } from '@mcx/errors';

import { hasRole, type Viewer } from './viewer.js';

/** Operations that policy decides on. */
export const OPERATIONS = ['record.write', 'record.read', 'audit.read', 'operator.admin', 'subgraph.service', 'subgraph.entities'] as const;
/** One operation. */
export type Operation = (typeof OPERATIONS)[number];

/** Context some operations need. */
export interface PolicyContext {
  /** The investigator a peer node (router) is asking on behalf of, verified separately. */
  forwardedUser?: Viewer | null;
}

/** True when `viewer` may perform `operation` (the force check of writes is assertCanWrite). */
export function can(viewer: Viewer, operation: Operation, context: PolicyContext = {}): boolean {
  switch (operation) {
    case 'record.write':
      // A force system publishes, never a person: a user token that carries the role is refused.
      return hasRole(viewer, 'publisher') && viewer.tokenKind === 'client';
    case 'record.read':
      return hasRole(viewer, 'investigator') && viewer.tokenKind === 'user';
    case 'audit.read':
      return hasRole(viewer, 'auditor');
    case 'operator.admin':
      return hasRole(viewer, 'operator');
    case 'subgraph.service':
    case 'subgraph.entities': {
      const user = context.forwardedUser;
      return hasRole(viewer, 'router') && !!user && can(user, 'record.read');
    }
    default:
      throw new UnreachableCaseError(operation);
  }
}

/** Throws UNAUTHENTICATED without a viewer and FORBIDDEN when policy refuses; returns the viewer. */
export function authorize(viewer: Viewer | null | undefined, operation: Operation, context: PolicyContext = {}): Viewer {
  if (!viewer) throw new McxError(ErrorCode.UNAUTHENTICATED, 'Authentication required');
  if (!can(viewer, operation, context)) {
    throw new McxError(ErrorCode.FORBIDDEN, `Not allowed: ${operation}`);
  }
  return viewer;
}

/** Throws FORBIDDEN unless the viewer is a publisher of `ownerForce`, the force that owns the record. */
export function assertCanWrite(viewer: Viewer | null | undefined, ownerForce: string): Viewer {
  const allowed = authorize(viewer, 'record.write');
  if (allowed.force !== ownerForce) {
    throw new McxError(ErrorCode.FORBIDDEN, "A publisher may write only its own force's records");
  }
  return allowed;
}
