/**
 * The calling end of the peer protocol: one question to every member that offers it, in
 * parallel, each with its own node token bound to the request, and every answer checked before
 * anything is used. A record with a bad signature, another owner than the member that answered,
 * that was not asked for, or that does not parse against its schema is dropped and reported; so
 * is a whole answer whose disclosure receipt does not verify. Each member gets a status, and the
 * answer says whether it is complete.
 */
import { randomUUID } from 'node:crypto';

import {
  completeness,
  DropReason,
  fromPeerStatus,
  MemberReason,
  PEER_PATH,
  peerAudience,
  REFUSAL_HEADER,
  requestHash,
  SignedRecordWire,
  type Completeness,
  type FanOut,
  type MemberResult,
  type MemberStatus,
  type PeerOperation,
  type PeerResult,
} from '@mcx/federation';
import {
  shownEndpoint,
  signNodeToken,
  verifyCheckpoint,
  verifyReceipt,
  verifyRecord,
  type JsonValue,
  type KeyResolver,
  type SigningKey,
  type TrustManifestHolder,
} from '@mcx/signing';
import { injectTraceHeaders, withSpan } from '@mcx/telemetry';

import type { AuthorisedRead } from '../auth/access.js';
import { RECEIVED_SCHEMAS, type ReceivedSchema } from '../modules/records/record-schemas.js';
import type { AnswerRecords, CheckedAnswer, VerifiedRecord } from './answer-checks.js';

/** Node tokens live this long: enough for the deadline, far below the 60 s ceiling. */
const TOKEN_TTL_SEC = 30;
/** A refusal code a member may give in its refusal header; anything else is reported by HTTP status. */
const REFUSAL_CODE = /^[A-Z0-9_:]{1,64}$/;

/** How far a receipt's time may be from this node's clock (as `mcx audit verify --receipts` allows). */
const RECEIPT_CLOCK_SKEW_MS = 5 * 60_000;

/** A receipt to store: the member's disclosure entry for this node's request. */
export interface PeerReceipt {
  peer: string;
  peerEntryId: string;
  receiptJws: string;
}

/** The federation's part of any answer: one row per member, completeness, receipts to store. */
export interface FederatedOutcome {
  members: MemberResult[];
  completeness: Completeness;
  /** The receipts to store, one per answering member. */
  receipts: PeerReceipt[];
}

/**
 * How one fan-out is bounded. `deadlineAt`: the query's deadline (`deadlineFromNow()` when the
 * query started), shared by all its fan-outs; without it each fan-out gets a fresh one. `fanOut:
 * 'nested'`: the owner's link counts inside another member's request, on the fan-out with the
 * shorter deadline.
 */
export interface FanOutBounds {
  deadlineAt?: number;
  fanOut?: 'query' | 'nested';
}

/** One question to every member offering `op`. */
export interface PeerQuestion<T> {
  op: PeerOperation;
  /** The field of the operation's data that holds the answer (`peerHistory`). */
  field: string;
  /** The same for every member, or by member (pointers are asked of their owners); null: that member is not asked. */
  variables: Record<string, unknown> | ((member: string) => Record<string, unknown> | null);
  read: AuthorisedRead;
  /** This node's committed consultation entry (`MEMBER:seq`), named in every token. */
  callerEntry: string;
  check: (member: string, data: unknown) => CheckedAnswer<T>;
}

/** Every member's row, the receipts, and the checked values of those that answered. */
export interface AskedAll<T> extends FederatedOutcome {
  values: { member: string; value: T }[];
}

export interface FederationClientDeps {
  forceCode: string;
  holder: TrustManifestHolder;
  peerTokenKey: SigningKey<'peer-token'>;
  fanOut: FanOut;
  /** For the owner's link counts inside another member's request: a shorter deadline. */
  nestedFanOut: FanOut;
  now: () => Date;
  /** Production: a member whose endpoint is not https is not called (reported UNAVAILABLE, INSECURE_ENDPOINT). */
  requireHttps: boolean;
}

/** One member's row and what its answer gave. */
interface MemberAnswer<T> {
  result: MemberResult;
  value: T | null;
  receipt: PeerReceipt | null;
}

type AnswerBody = { data?: Record<string, unknown>; receipt?: unknown; truncated?: unknown } | null;

const unanswered = <T>(result: MemberResult): MemberAnswer<T> => ({ result, value: null, receipt: null });

const row = (member: string, status: MemberStatus, reason: string | null, latencyMs = 0): MemberResult => ({
  member,
  status,
  reason,
  latencyMs,
  withheld: null,
  dropped: [],
});

function parseRecordBytes(bytes: unknown): Record<string, unknown> | null {
  if (typeof bytes !== 'string') return null;
  try {
    const v = JSON.parse(bytes) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** How many of each member's latest results the operator's status page summarises. */
const RECENT_RESULTS = 50;

export class FederationClient {
  private readonly recent = new Map<string, { status: MemberStatus; latencyMs: number }[]>();

  constructor(private readonly deps: FederationClientDeps) {}

  /** Each member of the manifest as the operator sees it: endpoint (without any user name or password), capabilities, breaker and its latest results. */
  memberHealth() {
    return (this.deps.holder.manifest?.members ?? []).map((m) => ({
      code: m.code,
      endpoint: shownEndpoint(m.endpoint),
      capabilities: [...m.capabilities],
      breaker: this.deps.fanOut.breakerState(m.code),
      recent: [...(this.recent.get(m.code) ?? [])],
    }));
  }

  /**
   * The deadline of a federated query that starts now (a `performance.now()` instant, one
   * `MCX_FEDERATION_DEADLINE_MS` away): taken once at the query's start and passed to each of its
   * fan-outs, so that one that waits for another gets what is left, not a fresh deadline.
   */
  deadlineFromNow(): number {
    return this.deps.fanOut.deadlineFromNow();
  }

  /** This node's member code. */
  get forceCode(): string {
    return this.deps.forceCode;
  }

  /** This node as a member of the manifest (its kind), when it is listed. */
  self() {
    return this.deps.holder.member(this.deps.forceCode);
  }

  /** Every member of the manifest, and whether it offers `op`: one that does not is not asked, and still counted. */
  private everyMember(op: PeerOperation): { code: string; endpoint: string; offers: boolean }[] {
    return (this.deps.holder.manifest?.members ?? []).map((m) => ({
      code: m.code,
      endpoint: m.endpoint,
      offers: m.capabilities.includes(op.name),
    }));
  }

  private token(member: string, read: AuthorisedRead, callerEntry: string, hash: string): { jwt: string; jti: string } {
    const jti = randomUUID();
    const v = read.viewer;
    const claims = {
      // The investigator's own organisation: the owner decides what it may see from this.
      act: { sub: v.subject, iss: v.issuer, org: v.force, org_kind: v.orgKind, role: 'investigator' },
      purpose: read.purpose,
      case_ref: read.caseRef,
      caller_entry: callerEntry,
      req_hash: hash,
    };
    const jwt = signNodeToken(
      { iss: this.deps.forceCode, aud: peerAudience(member), ttlSec: TOKEN_TTL_SEC, jti, claims },
      this.deps.peerTokenKey,
      this.deps.now(),
    );
    return { jwt, jti };
  }

  /**
   * Asks every member offering the question's operation, in parallel, each in its own span (a
   * member that does not offer it is reported NOT_OFFERED, and the answer is then PARTIAL), and
   * checks each answer: the status, the signed receipt (for this token and this caller entry),
   * then the question's `check` on the operation's data. Every member is cut by the same deadline.
   */
  async askAll<T>(question: PeerQuestion<T>, bounds: FanOutBounds = {}): Promise<AskedAll<T>> {
    const { op, variables } = question;
    const asked = this.everyMember(op).flatMap((m) => {
      const vars = typeof variables === 'function' ? variables(m.code) : variables;
      return vars ? [{ ...m, vars }] : [];
    });
    // Members asked the same variables share one request hash and body (one canonical form for all ten, not ten).
    const sent = new Map<Record<string, unknown>, { hash: string; body: string }>();
    const request = (vars: Record<string, unknown>) => {
      let r = sent.get(vars);
      if (!r)
        sent.set(vars, (r = { hash: requestHash(op.hash, vars as JsonValue), body: JSON.stringify({ id: op.hash, variables: vars }) }));
      return r;
    };
    const results = await Promise.all(asked.map((m) => this.askOne(m, request(m.vars), question, bounds)));
    const members = results.map((r) => r.result);
    // Status and latency only: never what a member answered.
    for (const r of members)
      this.recent.set(
        r.member,
        [...(this.recent.get(r.member) ?? []), { status: r.status, latencyMs: r.latencyMs }].slice(-RECENT_RESULTS),
      );
    return {
      members,
      completeness: completeness(members),
      receipts: results.flatMap((r) => (r.receipt ? [r.receipt] : [])),
      values: results.flatMap((r) => (r.value !== null && r.value !== undefined ? [{ member: r.result.member, value: r.value }] : [])),
    };
  }

  private async askOne<T>(
    m: { code: string; endpoint: string; offers: boolean },
    { hash, body }: { hash: string; body: string },
    question: PeerQuestion<T>,
    bounds: FanOutBounds,
  ): Promise<MemberAnswer<T>> {
    // A member that may hold the child but does not offer the operation was not asked: the answer cannot be complete.
    if (!m.offers) return unanswered(row(m.code, 'NOT_OFFERED', MemberReason.OPERATION_NOT_OFFERED));
    if (this.deps.requireHttps && !m.endpoint.startsWith('https://'))
      return unanswered(row(m.code, 'UNAVAILABLE', MemberReason.INSECURE_ENDPOINT));
    const { op, read, callerEntry } = question;
    const attributes = { 'mcx.node': this.deps.forceCode, 'mcx.peer': m.code, 'mcx.operation': op.name };
    return withSpan('mcx.peer.call', { kind: 'client', attributes }, async (span) => {
      const { jwt, jti } = this.token(m.code, read, callerEntry, hash);
      const headers = injectTraceHeaders({ authorization: `Bearer ${jwt}` });
      const fan = bounds.fanOut === 'nested' ? this.deps.nestedFanOut : this.deps.fanOut;
      const [raw] = await fan.call(
        [{ member: m.code, url: new URL(PEER_PATH, m.endpoint).toString(), headers, body }],
        bounds.deadlineAt === undefined ? {} : { deadlineAt: bounds.deadlineAt },
      );
      const checked = this.checkAnswer(m.code, raw!, jti, question);
      span.setAttributes({
        'mcx.peer.status': checked.result.status,
        'mcx.peer.latency_ms': checked.result.latencyMs,
        'mcx.peer.dropped': checked.result.dropped.length,
      });
      return checked;
    });
  }

  /** The member's own audit-checkpoint keys from the manifest: another member's key does not resolve. */
  private memberKeys(member: string): KeyResolver {
    const resolve = this.deps.holder.keyResolver('audit-checkpoint');
    return (kid) => (this.deps.holder.ownerOfKid(kid)?.code === member ? resolve(kid) : { found: false, reason: 'UNKNOWN_KEY' });
  }

  /** The receipt's disclosure entry id when it is the member's own, for this token, caller entry and node; else why not. */
  private checkReceipt(member: string, receiptJws: unknown, jti: string, callerEntry: string): { entry: string } | { bad: MemberReason } {
    try {
      const { receipt, kid } = verifyReceipt(receiptJws as string, this.deps.holder.keyResolver('audit-checkpoint'));
      const forUs =
        receipt.node === member && receipt.jti === jti && receipt.callerEntry === callerEntry && receipt.to === this.deps.forceCode;
      if (!forUs || this.deps.holder.ownerOfKid(kid)?.code !== member) return { bad: MemberReason.RECEIPT_MISMATCH };
      // Its time is one written as nodes write times (verifyReceipt refuses any other as malformed).
      // Dated by the member's clock, it dates the member's log when auditors check it against our receipts
      // (mcx audit verify --receipts): one dated far off, years ahead say, would leave a removed tail
      // unchecked there, never failed.
      if (!(Math.abs(Date.parse(receipt.at) - this.deps.now().getTime()) <= RECEIPT_CLOCK_SKEW_MS))
        return { bad: MemberReason.RECEIPT_TIME_SKEWED };
      // The checkpoint it quotes is the witness we keep: it must be the member's own, signed by its audit key.
      if (receipt.checkpoint !== null && verifyCheckpoint(receipt.checkpoint, this.memberKeys(member)).node !== member)
        return { bad: MemberReason.RECEIPT_CHECKPOINT_MISMATCH };
      return { entry: receipt.entry.id };
    } catch {
      return { bad: MemberReason.RECEIPT_INVALID };
    }
  }

  /** One member's answer: status, receipt, then the operation's own checks. */
  private checkAnswer<T>(member: string, r: PeerResult, jti: string, question: PeerQuestion<T>): MemberAnswer<T> {
    const base = row(member, fromPeerStatus(r.status), r.reason, Math.round(r.latencyMs));
    if (r.status === 'refused' || r.status === 'unavailable') {
      // The member's own code for a refusal or an outage (LOCATOR_STALE, AUDIT_UNAVAILABLE...), when it gave one; else the HTTP status.
      const code = r.responseHeaders[REFUSAL_HEADER];
      return unanswered({ ...base, reason: code && REFUSAL_CODE.test(code) ? code : r.reason });
    }
    if (r.status !== 'answered') return unanswered(base);
    const bad = (reason: MemberReason) => unanswered<T>({ ...base, status: 'BAD_DATA', reason });
    const body = r.body as AnswerBody;
    const receipt = this.checkReceipt(member, body?.receipt, jti, question.callerEntry);
    if ('bad' in receipt) return bad(receipt.bad);
    const checked = question.check(member, body?.data?.[question.field]);
    if ('bad' in checked) return bad(checked.bad);
    // Dropped records outrank a cut answer; either way the answer is not complete.
    const cut = body?.truncated === true ? { status: 'TRUNCATED' as const, reason: MemberReason.ANSWER_CAPPED } : {};
    const dropped = checked.dropped.length > 0 ? { status: 'BAD_DATA' as const, reason: MemberReason.RECORDS_DROPPED } : {};
    const result: MemberResult = { ...base, withheld: checked.withheld, dropped: checked.dropped, ...cut, ...dropped };
    return { result, value: checked.value, receipt: { peer: member, peerEntryId: receipt.entry, receiptJws: body!.receipt as string } };
  }

  /**
   * Verifies one signed record of a member's answer: readable, consistent with its envelope, owned
   * by the member that answered (a member never relays another's records), signed by one of that
   * member's record keys in the manifest, of a schema this answer may carry (`accept`), and
   * parsing against that schema: a signed but malformed record is dropped as MALFORMED.
   */
  verifyRecord = ({ member, seen, dropped }: AnswerRecords, wire: unknown, accept: readonly ReceivedSchema[]): VerifiedRecord | null => {
    const envelope = SignedRecordWire.safeParse(wire);
    const record = parseRecordBytes((wire as { bytes?: unknown } | null)?.bytes);
    const owner = typeof record?.owner === 'string' ? record.owner : null;
    const id = typeof record?.id === 'string' ? record.id : null;
    const drop = (reason: DropReason) => {
      dropped.push({ owner, id, reason });
      return null;
    };
    if (!envelope.success || !record || !owner || !id) return drop(DropReason.MALFORMED);
    const signed = envelope.data;
    if (record.kind !== signed.kind || owner !== signed.owner || id !== signed.id) return drop(DropReason.MALFORMED);
    if (owner !== member) return drop(DropReason.WRONG_OWNER);
    const verified = verifyRecord(signed.bytes, signed.signature, this.deps.holder.keyResolver('record'));
    if (!verified.valid || this.deps.holder.ownerOfKid(verified.kid)?.code !== member) return drop(DropReason.BAD_SIGNATURE);
    const key = `${String(record.kind)}/${owner}/${id}`;
    if (seen.has(key)) return drop(DropReason.DUPLICATE);
    seen.add(key);
    const schema = verified.payload.schema;
    if (typeof schema !== 'string' || !(accept as readonly string[]).includes(schema)) return drop(DropReason.NOT_REQUESTED);
    // Parsed from the verified bytes, against the schema it names.
    const parsed = RECEIVED_SCHEMAS[schema as ReceivedSchema].safeParse(verified.payload);
    if (!parsed.success) return drop(DropReason.MALFORMED);
    return { schema, record: parsed.data, wire: signed } as VerifiedRecord;
  };
}
