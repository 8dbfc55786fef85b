/**
 * POST /peer/v1: where member nodes ask this node. A request is `{ "id": <operation hash>,
 * "variables": {...} }` with a node token. The receiver takes the member from `iss` alone
 * (the token is checked against the trust manifest), refuses non-members, the wrong audience,
 * a request hash that does not match and a replayed `jti`, runs only allow-listed operations
 * it offers, applies its own disclosure policy, logs the disclosure, and answers with the
 * signed records and a signed disclosure receipt.
 */
import type { GraphQLSchema } from 'graphql';

import { IDENTIFIER, isOrgKind, isPurpose, readBearerToken, type OrgKind, type Purpose, type Viewer } from '@mcx/auth';
import { ErrorCode, McxError } from '@mcx/errors';
import { ActRefusal, operationByHash, peerAudience, PeerRefusal, requestHash } from '@mcx/federation';
import type { Logger } from '@mcx/logger';
import {
  NodeTokenErrorCode,
  signReceipt,
  verifyNodeToken,
  type JsonValue,
  type SigningKey,
  type TrustManifestHolder,
  type VerifiedNodeToken,
} from '@mcx/signing';

import type { Principal } from '../auth/access.js';
import type { Context } from '../context.js';
import { GraphQLErrorCode } from '../errors.js';
import type { AuditService } from '../modules/audit/audit-service.js';
import type { SecurityLog } from '../modules/audit/security-log.js';
import type { JtiStore } from './jti-store.js';
import { createPeerExecutor } from './peer-execute.js';

/** The organisation kinds a member of each kind may speak for: a local authority node cannot claim a police user. */
const SPEAKS_FOR: Record<string, readonly OrgKind[]> = {
  police: ['police', 'local_authority', 'provider'],
  local_authority: ['local_authority', 'provider'],
  provider: ['provider'],
};
const ACT_REFUSALS: Record<ActRefusal, string> = {
  [ActRefusal.PEER_CLAIMS_INVALID]:
    'the node token lacks a valid act (subject, issuer, organisation, kind, role), purpose, case reference or caller entry',
  [ActRefusal.PEER_ACT_KIND_NOT_SPOKEN_FOR]: 'a member may not speak for an organisation of a kind above its own',
  [ActRefusal.PEER_ACT_OTHER_MEMBER]: "a member may not speak for another member's own users",
  [ActRefusal.PEER_ACT_UNKNOWN_ORGANISATION]: "the requester's organisation is not a known organisation of the kind claimed",
  [ActRefusal.PEER_CALLER_ENTRY_NOT_OWN]: "the caller entry is not one of the calling member's own",
};
const HASH = /^[0-9a-f]{64}$/;
const CASE_REF = /^[A-Za-z0-9][A-Za-z0-9/_.:-]{0,63}$/;
const ENTRY = /^[A-Z0-9][A-Z0-9_-]{1,15}:\d{1,18}$/;
// Printable ASCII without spaces (IDENTIFIER), as the audit entry that records them requires.
const identifier = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max && IDENTIFIER.test(value);

/**
 * Fault injection for the federation tests: a real node that answers late, or tampers with its
 * answer, so the caller's checks can be shown to work. Never reachable from configuration.
 */
export type PeerAnswerFault = (answer: { data: unknown; receipt: string }) => Promise<unknown>;

export interface PeerEndpointDeps {
  forceCode: string;
  holder: TrustManifestHolder;
  auditKey: SigningKey<'audit-checkpoint'>;
  jtis: JtiStore;
  audit: AuditService;
  security: SecurityLog;
  /** The node's schema: the allow-listed documents are validated against it once and run on it. */
  schema: GraphQLSchema;
  /** Builds the request context for a verified peer principal. */
  context(principal: Principal, peerCall: { callerEntry: string; jti: string; expiresAt: number }, log: Logger): Context;
  clockLeewaySec: number;
  now: () => Date;
  /** The kind of a force or authority in the reference data; null when not listed. */
  organisationKind(code: string): OrgKind | null;
  fault?: PeerAnswerFault;
}

/**
 * What the endpoint answers, for the HTTP route to send: a JSON body (or, from a faulty test peer,
 * raw text), and for a refusal its code (the `x-mcx-refusal` header; 401 also gets a challenge).
 */
export interface PeerReply {
  status: number;
  body: unknown;
  /** Set by a fault-injecting test peer: the exact text to send. */
  raw?: string;
  refusal?: string;
}

function refusal(status: number, code: string, message: string): PeerReply {
  return { status, refusal: code, body: { error: { code, message } } };
}

const ORG = /^[A-Z0-9][A-Z0-9_-]{1,15}$/;

/** What the receiver knows to bind a member's claims: the manifest and the reference data. */
export interface ActBinding {
  member: { code: string; kind: string };
  /** True when `code` is another member of the federation than the caller. */
  isOtherMember(code: string): boolean;
  /** The kind of a force or authority in the reference data; null when it is not listed (providers). */
  organisationKind(code: string): OrgKind | null;
}

/**
 * The member's claims about its investigator (`act`: subject, issuer, their own organisation
 * and its kind, role), purpose, case and entry, or why they are refused. A member speaks only
 * for kinds no higher than its own, never for another member's own users, and only for
 * organisations the reference data knows as that kind (a provider is not listed); its caller
 * entry must be one of its own.
 */
export function readClaims(
  claims: Record<string, unknown>,
  bind: ActBinding,
):
  | { refused: ActRefusal }
  | { sub: string; iss: string; org: string; orgKind: OrgKind; purpose: Purpose; caseRef: string; callerEntry: string } {
  const invalid = { refused: ActRefusal.PEER_CLAIMS_INVALID };
  const act = claims.act as Record<string, unknown> | undefined;
  if (typeof act !== 'object' || act === null) return invalid;
  const { sub, iss, org, org_kind: orgKind, role } = act;
  const { purpose, case_ref: caseRef, caller_entry: callerEntry } = claims;
  // As long as a subject the node takes from its own tokens (claim-mapping.ts) and the audit entry holds: no local user is refused by members alone.
  if (!identifier(sub, 256) || !identifier(iss, 256)) return invalid;
  if (typeof org !== 'string' || !ORG.test(org) || !isOrgKind(orgKind) || role !== 'investigator') return invalid;
  if (
    !isPurpose(purpose) ||
    typeof caseRef !== 'string' ||
    !CASE_REF.test(caseRef) ||
    typeof callerEntry !== 'string' ||
    !ENTRY.test(callerEntry)
  )
    return invalid;
  if (!(SPEAKS_FOR[bind.member.kind] ?? []).includes(orgKind)) return { refused: ActRefusal.PEER_ACT_KIND_NOT_SPOKEN_FOR };
  if (bind.isOtherMember(org)) return { refused: ActRefusal.PEER_ACT_OTHER_MEMBER };
  if (org === bind.member.code ? orgKind !== bind.member.kind : orgKind !== 'provider' && bind.organisationKind(org) !== orgKind)
    return { refused: ActRefusal.PEER_ACT_UNKNOWN_ORGANISATION };
  if (callerEntry.slice(0, callerEntry.lastIndexOf(':')) !== bind.member.code) return { refused: ActRefusal.PEER_CALLER_ENTRY_NOT_OWN };
  return { sub, iss, org, orgKind, purpose, caseRef, callerEntry };
}

/** A request body the endpoint accepts: `{ "id": <operation hash>, "variables": { ... } }`. */
function readBody(body: unknown): { id: string; variables: Record<string, unknown> } | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { id, variables = {} } = body as { id?: unknown; variables?: unknown };
  if (typeof id !== 'string' || !HASH.test(id) || typeof variables !== 'object' || variables === null || Array.isArray(variables))
    return null;
  return { id, variables: variables as Record<string, unknown> };
}

export type PeerEndpoint = ReturnType<typeof createPeerEndpoint>;

export function createPeerEndpoint(deps: PeerEndpointDeps) {
  const run = createPeerExecutor(deps.schema);
  /**
   * Checks the node token from the Authorization header alone, before any body is read: the
   * signature against the manifest, the audience and the expiry. The request hash and the replay
   * check need the body and come in `answer`.
   */
  function authenticate(authorization: string | undefined, source: string): { token: VerifiedNodeToken } | { refused: PeerReply } {
    let token: string | null;
    try {
      token = readBearerToken(authorization ?? null);
    } catch {
      deps.security.note('peer_token_refused', PeerRefusal.NODE_TOKEN_MALFORMED, source);
      return { refused: refusal(401, PeerRefusal.NODE_TOKEN_MALFORMED, 'Authorization must be "Bearer <node token>"') };
    }
    if (!token) {
      deps.security.note('peer_token_refused', PeerRefusal.NODE_TOKEN_MISSING, source);
      return { refused: refusal(401, PeerRefusal.NODE_TOKEN_MISSING, 'a node token is required') };
    }
    try {
      return {
        token: verifyNodeToken(token, deps.holder, {
          audience: peerAudience(deps.forceCode),
          now: deps.now(),
          leewaySec: deps.clockLeewaySec,
        }),
      };
    } catch (err) {
      const code = err instanceof McxError ? err.code : PeerRefusal.NODE_TOKEN_INVALID;
      deps.security.note('peer_token_refused', code, source);
      return { refused: refusal(401, code, 'the node token was refused') };
    }
  }

  async function answer(verified: VerifiedNodeToken, rawBody: unknown, source: string, log: Logger): Promise<PeerReply> {
    const body = readBody(rawBody);
    if (!body) return refusal(400, PeerRefusal.BAD_REQUEST, 'the body must be { "id": <operation hash>, "variables": { ... } }');
    const { variables } = body;
    // The token binds this exact operation and these exact variables.
    if (verified.claims.req_hash !== requestHash(body.id, variables as JsonValue)) {
      deps.security.note('peer_token_refused', PeerRefusal.NODE_TOKEN_REQUEST_MISMATCH, source);
      return refusal(401, PeerRefusal.NODE_TOKEN_REQUEST_MISMATCH, 'the node token was issued for another request');
    }
    // Checked at the header, and again now that the body has come: a token that expired meanwhile is
    // refused, so one whose jti has been swept (clockLeewaySec + 60 s after its expiry) is never taken.
    if (verified.exp <= Math.floor(deps.now().getTime() / 1000) - deps.clockLeewaySec) {
      deps.security.note('peer_token_refused', NodeTokenErrorCode.NODE_TOKEN_EXPIRED, source);
      return refusal(401, NodeTokenErrorCode.NODE_TOKEN_EXPIRED, 'the node token expired before its request was read');
    }
    if (!(await deps.jtis.firstUse(verified.member, verified.jti, new Date(verified.exp * 1000)))) {
      deps.security.note('peer_token_refused', PeerRefusal.NODE_TOKEN_REPLAYED, source);
      return refusal(401, PeerRefusal.NODE_TOKEN_REPLAYED, 'this node token was used before');
    }
    const member = deps.holder.member(verified.member)!;
    const read = readClaims(verified.claims, {
      member,
      isOtherMember: (code) => code !== member.code && deps.holder.member(code) !== undefined,
      organisationKind: deps.organisationKind,
    });
    const claims = 'refused' in read ? null : read;
    // The requester is their own organisation, never the calling member: a node asking itself is
    // a peer like any other, and only the owner's own organisation reads the owner's whole record.
    const viewer: Viewer = claims
      ? { subject: claims.sub, issuer: claims.iss, force: claims.org, orgKind: claims.orgKind, roles: ['investigator'], tokenKind: 'user' }
      : {
          subject: `node:${member.code}`,
          issuer: `mcx-peer:${member.code}`,
          force: member.code,
          orgKind: 'police',
          roles: ['investigator'],
          tokenKind: 'user',
        };
    const refuseAudited = async (status: number, code: string, message: string, operation: string) => {
      // An authenticated member's refused request belongs in the audit chain.
      await deps.audit
        .record({
          action: 'authorisation_failure',
          viewer,
          requestingNode: member.code,
          operation,
          recordIds: [],
          outcome: 'refused',
          reason: code,
        })
        .catch(() => undefined);
      return refusal(status, code, message);
    };
    if (!claims)
      return refuseAudited(403, (read as { refused: ActRefusal }).refused, ACT_REFUSALS[(read as { refused: ActRefusal }).refused], 'peer');
    const op = operationByHash(body.id);
    if (!op) return refuseAudited(400, PeerRefusal.OPERATION_NOT_ALLOWED, 'that operation is not on the peer allow-list', 'peer');
    const self = deps.holder.member(deps.forceCode);
    if (!self?.capabilities.includes(op.name))
      return refuseAudited(400, PeerRefusal.OPERATION_NOT_OFFERED, `this node does not offer ${op.name}`, op.name);

    const principal: Principal = {
      viewer,
      claims: verified.claims,
      forwarded: null,
      peer: { member: member.code, purpose: claims.purpose, caseRef: claims.caseRef },
    };
    const ctx = deps.context(principal, { callerEntry: claims.callerEntry, jti: verified.jti, expiresAt: verified.exp * 1000 }, log);
    const { data, errors } = await run(op, variables, ctx);
    if (errors?.length) {
      const first = errors[0]!;
      const code = String(first.extensions?.code ?? PeerRefusal.INTERNAL);
      // Not served now (the locator off, the audit chain broken or unwritable): 503, as the node's own edge answers it.
      const status =
        code === ErrorCode.FORBIDDEN || code === ErrorCode.UNAUTHENTICATED
          ? 403
          : code === ErrorCode.BAD_USER_INPUT
            ? 400
            : code === ErrorCode.SERVICE_UNAVAILABLE || code === GraphQLErrorCode.AUDIT_UNAVAILABLE
              ? 503
              : 500;
      return refusal(status, String(first.extensions?.reason ?? code), first.message);
    }
    const entry = ctx.peerCall?.entry;
    if (!entry) return refusal(503, PeerRefusal.AUDIT_UNAVAILABLE, 'the disclosure was not audited');
    const receipt = signReceipt(
      {
        node: deps.forceCode,
        to: member.code,
        jti: verified.jti,
        callerEntry: claims.callerEntry,
        entry,
        checkpoint: await deps.audit.latestCheckpoint(),
        at: deps.now().toISOString(),
      },
      deps.auditKey,
    );
    // `truncated`: the answer was cut at one of this node's caps (the caller reports it, and is PARTIAL).
    const answer = { data, receipt, ...(ctx.peerCall?.truncated ? { truncated: true } : {}) };
    if (!deps.fault) return { status: 200, body: answer };
    const faulty = await deps.fault(answer);
    return typeof faulty === 'string' ? { status: 200, body: null, raw: faulty } : { status: 200, body: faulty };
  }

  return {
    authenticate,
    /**
     * Answers one request whose node token `authenticate` accepted; the body has been read, bounded
     * and parsed by the HTTP route.
     */
    answer,
    /** Forgets used token ids once their tokens have expired. */
    sweep: () => deps.jtis.sweep(deps.now(), deps.clockLeewaySec + 60),
  };
}
