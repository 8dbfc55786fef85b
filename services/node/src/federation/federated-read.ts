/**
 * The calling end of the peer protocol: one question to every member that offers it, in
 * parallel, each with its own node token bound to the request, and every answer checked before
 * anything is used. A record with a bad signature, another owner than the member that answered,
 * that was not asked for, or that does not parse against its schema is dropped and reported; so
 * is a whole answer whose disclosure receipt does not verify. Each member gets a status, and the
 * answer says whether it is complete.
 */
import { randomUUID } from 'node:crypto';

import { z } from 'zod';

import type { OrgKind } from '@mcx/auth';
import type { FanOut, PeerResult } from '@mcx/federation';
import type { DerivedLinkageKey } from '@mcx/linkage';
import {
  signNodeToken,
  verifyCheckpoint,
  verifyReceipt,
  verifyRecord,
  type KeyResolver,
  type SigningKey,
  type TrustManifestHolder,
} from '@mcx/signing';
import { injectTraceHeaders, withSpan } from '@mcx/telemetry';

import type { AuthorisedRead } from '../auth/access.js';
import type { AssociatePointerRecord } from '../modules/disclosure/disclose.js';
import { EPISODE_SCHEMA, type EpisodeRecord } from '../modules/episode/episode-model.js';
import { haversineMetres } from '../modules/history/history-model.js';
import { LOCATION_SCHEMA, type LocationRecord } from '../modules/location-of-concern/location-spec.js';
import type { StoredRecord } from '../modules/records/record-kind.js';
import {
  associateLinkCountsSchema,
  peerMatchSchema,
  RECEIVED_SCHEMAS,
  withheldCountsSchema,
  type Received,
  type ReceivedSchema,
} from '../modules/records/record-schemas.js';
import {
  PEER_ASSOCIATE_LINKS,
  PEER_HISTORY,
  PEER_LOCATIONS,
  PEER_PATH,
  PEER_POINTERS,
  peerAudience,
  requestHash,
  type PeerOperation,
} from './peer-operations.js';

/** Node tokens live this long: enough for the deadline, far below the 60 s ceiling. */
const TOKEN_TTL_SEC = 30;

export type MemberStatus = 'ANSWERED' | 'TRUNCATED' | 'TIMED_OUT' | 'REFUSED' | 'UNAVAILABLE' | 'CIRCUIT_OPEN' | 'BAD_DATA' | 'NOT_OFFERED';

export interface DroppedRecord {
  owner: string | null;
  id: string | null;
  reason: 'BAD_SIGNATURE' | 'WRONG_OWNER' | 'NOT_REQUESTED' | 'MALFORMED' | 'DUPLICATE';
}

export interface MemberResult {
  member: string;
  status: MemberStatus;
  reason: string | null;
  latencyMs: number;
  /** integrityFault: null or absent when the member's answer (peer protocol version 1) does not carry it. */
  withheld: { restricted: number; reviewOverdue: number; notDisclosable: number; integrityFault?: number | null } | null;
  dropped: DroppedRecord[];
}

export interface PeerMatch {
  subjectRef: string;
  strength: 'STRONG' | 'POSSIBLE';
  matchedKinds: string[];
  conflicts: string[];
}

/** What the federated read and the child's history are built from. */
export interface FederatedEpisodeModel {
  member: string;
  match: PeerMatch;
  episode: StoredRecord<EpisodeRecord>;
}

/** A member's link counts for one of its associates. */
export interface AssociateLinkCounts {
  owner: string;
  id: string;
  byForce: { force: string; children: number }[];
  complete: boolean;
}

/** The federation's part of any answer: one row per member, completeness, receipts to store. */
export interface FederatedOutcome {
  members: MemberResult[];
  completeness: 'COMPLETE' | 'PARTIAL';
  /** The receipts to store, one per answering member. */
  receipts: { peer: string; peerEntryId: string; receiptJws: string }[];
}

export interface FederatedHistory extends FederatedOutcome {
  episodes: FederatedEpisodeModel[];
  associates: StoredRecord<AssociatePointerRecord>[];
  /** The owners' link counts, by `owner/id` of the pointer. */
  links: Map<string, AssociateLinkCounts>;
}

/** A verified location of concern and its distance from the nearest point asked about. */
export interface LocationNearModel {
  location: StoredRecord<LocationRecord>;
  distanceMetres: number;
}

export interface FederatedLocations extends FederatedOutcome {
  locations: LocationNearModel[];
}

/** A point and radius (metres). */
export interface Near {
  lat: number;
  lon: number;
  radiusMetres: number;
}

/**
 * How one fan-out is bounded. `deadlineAt`: the query's deadline (`deadlineFromNow()` when the
 * query started), shared by all its fan-outs; without it each fan-out gets a fresh one. `nested`:
 * the owner's link counts inside another member's request, on the fan-out with the shorter deadline.
 */
export interface FanOutBounds {
  deadlineAt?: number;
  nested?: boolean;
}

/** What one member's checked answer gives: its value, and what was dropped. */
type Checked<T> = { value: T; dropped: DroppedRecord[]; withheld: MemberResult['withheld'] } | { bad: string };

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

interface SignedRecordWire {
  kind: string;
  owner: string;
  id: string;
  version: number;
  bytes: string;
  signature: string;
}

// The answers of the allow-listed operations. A member's answer that does not parse is that
// member's BAD_DATA (MALFORMED_ANSWER), never an error for the whole read; each record in it is
// checked on its own (verified()).
const answerRecords = z.array(z.unknown()).max(10_000);
const historyAnswer = z.object({
  matches: z.array(peerMatchSchema).max(1_000),
  records: answerRecords,
  withheld: withheldCountsSchema,
  associateLinks: z.array(associateLinkCountsSchema).max(1_000),
});
const pointersAnswer = z.object({
  records: answerRecords,
  withheld: withheldCountsSchema,
  associateLinks: z.array(associateLinkCountsSchema).max(1_000),
});
const locationsAnswer = z.object({ records: answerRecords, withheld: withheldCountsSchema });

const STATUS: Record<PeerResult['status'], MemberStatus> = {
  answered: 'ANSWERED',
  timed_out: 'TIMED_OUT',
  refused: 'REFUSED',
  unavailable: 'UNAVAILABLE',
  circuit_open: 'CIRCUIT_OPEN',
  bad_data: 'BAD_DATA',
};

function parse(bytes: unknown): Record<string, unknown> | null {
  if (typeof bytes !== 'string') return null;
  try {
    const v = JSON.parse(bytes) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class FederationClient {
  constructor(private readonly deps: FederationClientDeps) {}

  /**
   * The deadline of a federated query that starts now (a `performance.now()` instant, one
   * `MCX_FEDERATION_DEADLINE_MS` away): taken once at the query's start and passed to each of its
   * fan-outs, so that one that waits for another gets what is left, not a fresh deadline.
   */
  deadlineFromNow(): number {
    return this.deps.fanOut.deadlineFromNow();
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
    const jwt = signNodeToken(
      {
        iss: this.deps.forceCode,
        aud: peerAudience(member),
        ttlSec: TOKEN_TTL_SEC,
        jti,
        claims: {
          // The investigator's own organisation: the owner decides what it may see from this.
          act: { sub: v.subject, iss: v.issuer, org: v.force, org_kind: v.orgKind, role: 'investigator' },
          purpose: read.purpose,
          case_ref: read.caseRef,
          caller_entry: callerEntry,
          req_hash: hash,
        },
      },
      this.deps.peerTokenKey,
      this.deps.now(),
    );
    return { jwt, jti };
  }

  /**
   * Asks every member offering `op`, in parallel, each in its own span (a member that does not
   * offer it is reported NOT_OFFERED, and the answer is then PARTIAL), and checks each answer:
   * the status, the signed receipt (for this token and this caller entry), then `check` on the
   * operation's data. The caller has already committed its entry (`callerEntry`, `MEMBER:seq`).
   * Every member is cut by the same deadline (`bounds`).
   */
  private async askAll<T>(
    op: PeerOperation,
    field: string,
    variables: Record<string, unknown> | ((member: string) => Record<string, unknown> | null),
    read: AuthorisedRead,
    callerEntry: string,
    check: (member: string, data: unknown) => Checked<T>,
    bounds: FanOutBounds = {},
  ) {
    // Variables may differ by member (pointers are asked of their owners); null: not relevant.
    const asked = this.everyMember(op).flatMap((m) => {
      const vars = typeof variables === 'function' ? variables(m.code) : variables;
      return vars ? [{ ...m, hash: requestHash(op.hash, vars as never), body: JSON.stringify({ id: op.hash, variables: vars }) }] : [];
    });
    const results = await Promise.all(
      asked.map(async (m) => {
        const { hash, body } = m;
        const none = { value: null as T | null, receipt: null as FederatedOutcome['receipts'][number] | null };
        // A member that may hold the child but does not offer the operation was not asked: the answer cannot be complete.
        if (!m.offers)
          return {
            result: {
              member: m.code,
              status: 'NOT_OFFERED' as MemberStatus,
              reason: 'OPERATION_NOT_OFFERED',
              latencyMs: 0,
              withheld: null,
              dropped: [],
            },
            ...none,
          };
        if (this.deps.requireHttps && !m.endpoint.startsWith('https://')) {
          return {
            result: {
              member: m.code,
              status: 'UNAVAILABLE' as MemberStatus,
              reason: 'INSECURE_ENDPOINT',
              latencyMs: 0,
              withheld: null,
              dropped: [],
            },
            ...none,
          };
        }
        const attributes = { 'mcx.node': this.deps.forceCode, 'mcx.peer': m.code, 'mcx.operation': op.name };
        return withSpan('mcx.peer.call', { kind: 'client', attributes }, async (span) => {
          const { jwt, jti } = this.token(m.code, read, callerEntry, hash);
          const headers = injectTraceHeaders({ authorization: `Bearer ${jwt}` });
          const fan = bounds.nested ? this.deps.nestedFanOut : this.deps.fanOut;
          const [raw] = await fan.call(
            [{ member: m.code, url: new URL(PEER_PATH, m.endpoint).toString(), headers, body }],
            bounds.deadlineAt === undefined ? {} : { deadlineAt: bounds.deadlineAt },
          );
          const checked = this.checkAnswer(m.code, raw!, jti, callerEntry, field, check);
          span.setAttributes({
            'mcx.peer.status': checked.result.status,
            'mcx.peer.latency_ms': checked.result.latencyMs,
            'mcx.peer.dropped': checked.result.dropped.length,
          });
          return checked;
        });
      }),
    );
    return {
      members: results.map((r) => r.result),
      // No member asked (none offers the operation) is not a complete answer either.
      completeness:
        results.length > 0 && results.every((r) => r.result.status === 'ANSWERED') ? ('COMPLETE' as const) : ('PARTIAL' as const),
      receipts: results.flatMap((r) => (r.receipt ? [r.receipt] : [])),
      values: results.flatMap((r) => (r.value !== null && r.value !== undefined ? [{ member: r.result.member, value: r.value as T }] : [])),
    };
  }

  /** The member's own audit-checkpoint keys from the manifest: another member's key does not resolve. */
  private memberKeys(member: string): KeyResolver {
    const resolve = this.deps.holder.keyResolver('audit-checkpoint');
    return (kid) => (this.deps.holder.ownerOfKid(kid)?.code === member ? resolve(kid) : { found: false, reason: 'UNKNOWN_KEY' });
  }

  /** One member's answer: status, receipt, then the operation's own checks. */
  private checkAnswer<T>(
    member: string,
    r: PeerResult,
    jti: string,
    callerEntry: string,
    field: string,
    check: (member: string, data: unknown) => Checked<T>,
  ) {
    const base: MemberResult = {
      member,
      status: STATUS[r.status],
      reason: r.reason,
      latencyMs: Math.round(r.latencyMs),
      withheld: null,
      dropped: [],
    };
    const none = { value: null as T | null, receipt: null as FederatedOutcome['receipts'][number] | null };
    if (r.status === 'refused') {
      // The member's refusal code (x-mcx-refusal), when it gave one; else the HTTP status.
      const code = r.responseHeaders['x-mcx-refusal'];
      return { result: { ...base, reason: code && /^[A-Z0-9_:]{1,64}$/.test(code) ? code : r.reason }, ...none };
    }
    if (r.status !== 'answered') return { result: base, ...none };
    const bad = (reason: string) => ({ result: { ...base, status: 'BAD_DATA' as const, reason }, ...none });
    const body = r.body as { data?: Record<string, unknown>; receipt?: unknown; truncated?: unknown } | null;
    let receiptEntry: string;
    try {
      const { receipt, kid } = verifyReceipt(body?.receipt as string, this.deps.holder.keyResolver('audit-checkpoint'));
      if (
        receipt.node !== member ||
        this.deps.holder.ownerOfKid(kid)?.code !== member ||
        receipt.jti !== jti ||
        receipt.callerEntry !== callerEntry ||
        receipt.to !== this.deps.forceCode
      )
        return bad('RECEIPT_MISMATCH');
      // The checkpoint it quotes is the witness we keep: it must be the member's own, signed by its audit key.
      if (receipt.checkpoint !== null && verifyCheckpoint(receipt.checkpoint, this.memberKeys(member)).node !== member)
        return bad('RECEIPT_CHECKPOINT_MISMATCH');
      receiptEntry = receipt.entry.id;
    } catch {
      return bad('RECEIPT_INVALID');
    }
    const checked = check(member, body?.data?.[field]);
    if ('bad' in checked) return bad(checked.bad);
    // Dropped records outrank a cut answer; either way the answer is not complete.
    const cut = body?.truncated === true ? { status: 'TRUNCATED' as const, reason: 'ANSWER_CAPPED' } : {};
    const result: MemberResult = {
      ...base,
      withheld: checked.withheld,
      dropped: checked.dropped,
      ...cut,
      ...(checked.dropped.length > 0 ? { status: 'BAD_DATA' as const, reason: 'RECORDS_DROPPED' } : {}),
    };
    return { result, value: checked.value, receipt: { peer: member, peerEntryId: receiptEntry, receiptJws: body!.receipt as string } };
  }

  /**
   * Verifies one signed record from `member`: readable, consistent with its envelope, owned by
   * the member that answered (a member never relays another's records), signed by one of that
   * member's record keys in the manifest, of a schema this answer may carry (`accept`), and
   * parsing against that schema: a signed but malformed record is dropped as MALFORMED.
   */
  private verified(
    member: string,
    wire: SignedRecordWire,
    seen: Set<string>,
    dropped: DroppedRecord[],
    accept: readonly ReceivedSchema[],
  ): (Received & { wire: SignedRecordWire }) | null {
    const record = parse(wire?.bytes);
    const owner = typeof record?.owner === 'string' ? record.owner : null;
    const id = typeof record?.id === 'string' ? record.id : null;
    const drop = (reason: DroppedRecord['reason']) => {
      dropped.push({ owner, id, reason });
      return null;
    };
    if (!record || !owner || !id || record.kind !== wire.kind || owner !== wire.owner || id !== wire.id) return drop('MALFORMED');
    if (owner !== member) return drop('WRONG_OWNER');
    const verified = verifyRecord(wire.bytes, wire.signature, this.deps.holder.keyResolver('record'));
    if (!verified.valid || this.deps.holder.ownerOfKid(verified.kid)?.code !== member) return drop('BAD_SIGNATURE');
    const key = `${String(record.kind)}/${owner}/${id}`;
    if (seen.has(key)) return drop('DUPLICATE');
    seen.add(key);
    const schema = verified.payload.schema;
    if (typeof schema !== 'string' || !(accept as readonly string[]).includes(schema)) return drop('NOT_REQUESTED');
    // Parsed from the verified bytes, against the schema it names.
    const parsed = RECEIVED_SCHEMAS[schema as ReceivedSchema].safeParse(verified.payload);
    if (!parsed.success) return drop('MALFORMED');
    return { schema, record: parsed.data, wire } as Received & { wire: SignedRecordWire };
  }

  /** A child's episodes at every member, by linkage keys, with associates as pointers and their link counts. */
  async history(
    read: AuthorisedRead,
    keys: readonly DerivedLinkageKey[],
    callerEntry: string,
    bounds: Pick<FanOutBounds, 'deadlineAt'> = {},
  ): Promise<FederatedHistory> {
    const variables = {
      keys: keys.map((k) => ({
        kind: k.kind,
        strength: k.strength,
        keyVersion: k.keyVersion,
        key: k.key,
        ...(k.variant ? { variant: k.variant } : {}),
      })),
    };
    const out = await this.askAll(
      PEER_HISTORY,
      'peerHistory',
      variables,
      read,
      callerEntry,
      (member, data) => this.checkHistory(member, data),
      bounds,
    );
    const links = new Map<string, AssociateLinkCounts>();
    for (const v of out.values) for (const l of v.value.links) links.set(`${l.owner}/${l.id}`, l);
    return {
      members: out.members,
      completeness: out.completeness,
      receipts: out.receipts,
      episodes: out.values.flatMap((v) => v.value.episodes),
      associates: out.values.flatMap((v) => v.value.associates),
      links,
    };
  }

  private checkHistory(
    member: string,
    history: unknown,
  ): Checked<{ episodes: FederatedEpisodeModel[]; associates: StoredRecord<AssociatePointerRecord>[]; links: AssociateLinkCounts[] }> {
    const answer = historyAnswer.safeParse(history);
    if (!answer.success) return { bad: 'MALFORMED_ANSWER' };
    const dropped: DroppedRecord[] = [];
    const matches = new Map(answer.data.matches.map((m) => [m.subjectRef, m]));
    const episodes: FederatedEpisodeModel[] = [];
    const pointers: { wire: SignedRecordWire; record: AssociatePointerRecord }[] = [];
    const seen = new Set<string>();
    for (const wire of answer.data.records) {
      const got = this.verified(member, wire as SignedRecordWire, seen, dropped, [EPISODE_SCHEMA, 'mcx.associate-pointer/1']);
      if (!got) continue;
      if (got.schema === EPISODE_SCHEMA) {
        const match = matches.get(got.record.subjectRef);
        if (!match) dropped.push({ owner: member, id: got.record.id, reason: 'NOT_REQUESTED' });
        else
          episodes.push({
            member,
            match,
            episode: { record: got.record as EpisodeRecord, bytes: got.wire.bytes, signature: got.wire.signature, state: 'ACTIVE' },
          });
      } else if (got.schema === 'mcx.associate-pointer/1') {
        pointers.push({ wire: got.wire, record: got.record });
      }
    }
    // A pointer is asked for only when an episode of this answer names it.
    const named = new Set(episodes.flatMap((e) => e.episode.record.facts.associates.map((a) => `${a.owner}/${a.associateId}`)));
    const associates: StoredRecord<AssociatePointerRecord>[] = [];
    for (const p of pointers) {
      if (!named.has(`${p.record.owner}/${p.record.id}`)) dropped.push({ owner: p.record.owner, id: p.record.id, reason: 'NOT_REQUESTED' });
      else associates.push({ record: p.record, bytes: p.wire.bytes, signature: p.wire.signature, state: 'ACTIVE' });
    }
    // Link counts only for this member's own pointers in this answer.
    const mine = new Set(associates.map((a) => `${a.record.owner}/${a.record.id}`));
    const links = answer.data.associateLinks.filter((l) => l.owner === member && mine.has(`${l.owner}/${l.id}`));
    return { value: { episodes, associates, links }, dropped, withheld: answer.data.withheld };
  }

  /**
   * Pointers to associates named by episodes but held by members whose answers did not carry
   * them: asked of each owner, with the owner's link counts (excluding this child).
   */
  async pointers(
    read: AuthorisedRead,
    byOwner: ReadonlyMap<string, readonly string[]>,
    childKeys: readonly DerivedLinkageKey[],
    callerEntry: string,
    bounds: Pick<FanOutBounds, 'deadlineAt'> = {},
  ) {
    const exclude = childKeys.map((k) => ({
      kind: k.kind,
      strength: k.strength,
      keyVersion: k.keyVersion,
      key: k.key,
      ...(k.variant ? { variant: k.variant } : {}),
    }));
    const out = await this.askAll<{ pointers: StoredRecord<AssociatePointerRecord>[]; links: AssociateLinkCounts[] }>(
      PEER_POINTERS,
      'peerAssociatePointers',
      (member) => (byOwner.has(member) ? { ids: [...byOwner.get(member)!], exclude } : null),
      read,
      callerEntry,
      (member, data) => {
        const answer = pointersAnswer.safeParse(data);
        if (!answer.success) return { bad: 'MALFORMED_ANSWER' };
        const d = answer.data;
        const wanted = new Set(byOwner.get(member) ?? []);
        const dropped: DroppedRecord[] = [];
        const seen = new Set<string>();
        const pointers: StoredRecord<AssociatePointerRecord>[] = [];
        for (const wire of d.records) {
          const got = this.verified(member, wire as SignedRecordWire, seen, dropped, ['mcx.associate-pointer/1']);
          if (got?.schema !== 'mcx.associate-pointer/1') continue;
          // Asked for: a pointer to one of the ids asked of this owner.
          if (!wanted.has(got.record.id)) dropped.push({ owner: member, id: got.record.id, reason: 'NOT_REQUESTED' });
          else pointers.push({ record: got.record, bytes: got.wire.bytes, signature: got.wire.signature, state: 'ACTIVE' });
        }
        const mine = new Set(pointers.map((p) => p.record.id));
        const links = d.associateLinks.filter((l) => l.owner === member && mine.has(l.id));
        return { value: { pointers, links }, dropped, withheld: d.withheld };
      },
      bounds,
    );
    return {
      members: out.members,
      completeness: out.completeness,
      receipts: out.receipts,
      pointers: out.values.flatMap((v) => v.value.pointers),
      links: out.values.flatMap((v) => v.value.links),
    };
  }

  /** Locations of concern at every member near the points, optionally with one of `concerns`. */
  async locations(
    read: AuthorisedRead,
    near: readonly Near[],
    concerns: readonly string[] | null,
    callerEntry: string,
    bounds: Pick<FanOutBounds, 'deadlineAt'> = {},
  ): Promise<FederatedLocations> {
    const variables = {
      near: near.map((n) => ({ lat: n.lat, lon: n.lon, radiusMetres: n.radiusMetres })),
      concerns: concerns ? [...concerns] : null,
    };
    const out = await this.askAll<LocationNearModel[]>(
      PEER_LOCATIONS,
      'peerLocations',
      variables,
      read,
      callerEntry,
      (member, data) => {
        const answer = locationsAnswer.safeParse(data);
        if (!answer.success) return { bad: 'MALFORMED_ANSWER' };
        const d = answer.data;
        const dropped: DroppedRecord[] = [];
        const seen = new Set<string>();
        const found: LocationNearModel[] = [];
        for (const wire of d.records) {
          const got = this.verified(member, wire as SignedRecordWire, seen, dropped, [LOCATION_SCHEMA]);
          if (got?.schema !== LOCATION_SCHEMA) continue;
          const record: LocationRecord = got.record;
          const point = record.facts.location;
          const distance =
            point.lat != null && point.lon != null
              ? Math.min(...near.map((n) => haversineMetres(n, { lat: point.lat!, lon: point.lon! }) - n.radiusMetres))
              : Infinity;
          const wanted = !concerns || record.assessment.concerns.some((c) => concerns.includes(c));
          // Asked for: within a radius asked about (a metre's rounding allowed), with a concern asked about.
          if (distance > 1 || !wanted) {
            dropped.push({ owner: member, id: record.id, reason: 'NOT_REQUESTED' });
            continue;
          }
          const exact = Math.min(...near.map((n) => haversineMetres(n, { lat: point!.lat!, lon: point!.lon! })));
          found.push({
            location: { record, bytes: got.wire.bytes, signature: got.wire.signature, state: 'ACTIVE' },
            distanceMetres: Math.round(exact),
          });
        }
        return { value: found, dropped, withheld: d.withheld };
      },
      bounds,
    );
    return {
      members: out.members,
      completeness: out.completeness,
      receipts: out.receipts,
      locations: out.values.flatMap((v) => v.value).sort((a, b) => a.distanceMetres - b.distanceMetres),
    };
  }

  /**
   * The owner's question to every member: how many children (other than those matching
   * `exclude`) do you link to each of these associates? Cut at a short deadline of its own, since
   * it runs inside another member's request (the caller's remaining time does not travel with the
   * request, so it cannot be used here).
   */
  async associateLinks(
    read: AuthorisedRead,
    associates: readonly {
      owner: string;
      id: string;
      keys: readonly { kind: string; strength: string; keyVersion: string; key: string }[];
    }[],
    exclude: readonly { kind: string; strength: string; keyVersion: string; key: string; variant?: string }[],
    callerEntry: string,
  ) {
    const strip = (k: { kind: string; strength: string; keyVersion: string; key: string; variant?: string }) => ({
      kind: k.kind,
      strength: k.strength,
      keyVersion: k.keyVersion,
      key: k.key,
      ...(k.variant ? { variant: k.variant } : {}),
    });
    const variables = {
      associates: associates.map((a) => ({ owner: a.owner, id: a.id, keys: a.keys.map(strip) })),
      exclude: exclude.map(strip),
    };
    const asked = new Set(associates.map((a) => `${a.owner}/${a.id}`));
    // The owner asks about its own associates as itself (its own organisation and kind), for the
    // requester's purpose and case: a local authority's node may not speak for a police user,
    // and need not, since counts are the owner's business. Its consultation entry
    // (`callerEntry`) names the requester it asked for.
    const self = this.deps.holder.member(this.deps.forceCode);
    const asOwner: AuthorisedRead = {
      ...read,
      viewer: {
        subject: `node:${this.deps.forceCode}`,
        issuer: `mcx-node:${this.deps.forceCode}`,
        force: this.deps.forceCode,
        orgKind: (self?.kind ?? 'police') as OrgKind,
        roles: ['investigator'],
        tokenKind: 'user',
      },
    };
    const out = await this.askAll<{ owner: string; id: string; children: number }[]>(
      PEER_ASSOCIATE_LINKS,
      'peerAssociateLinks',
      variables,
      asOwner,
      callerEntry,
      (_member, data) => {
        const d = data as { links?: { owner: string; id: string; children: number }[] } | null;
        if (!d || !Array.isArray(d.links)) return { bad: 'MALFORMED_ANSWER' };
        const links = d.links.filter((l) => asked.has(`${l?.owner}/${l?.id}`) && Number.isSafeInteger(l.children) && l.children >= 0);
        return { value: links, dropped: [], withheld: null };
      },
      { nested: true },
    );
    return {
      complete: out.completeness === 'COMPLETE',
      receipts: out.receipts,
      counts: associates.map((a) => ({
        owner: a.owner,
        id: a.id,
        byForce: out.values.flatMap((v) =>
          v.value.filter((l) => l.owner === a.owner && l.id === a.id).map((l) => ({ force: v.member, children: l.children })),
        ),
        complete: out.completeness === 'COMPLETE',
      })),
    };
  }
}
