/**
 * The calling end of the peer protocol: one question to every member that offers it, in
 * parallel, each with its own node token bound to the request, and every answer checked before
 * anything is used. A record with a bad signature, another owner than the member that answered,
 * or that was not asked for is dropped and reported; so is a whole answer whose disclosure
 * receipt does not verify. Each member gets a status, and the answer says whether it is complete.
 */
import { randomUUID } from 'node:crypto';
import type { AuthorisedRead } from '../auth/access.js';
import { signNodeToken, verifyReceipt, verifyRecord, type SigningKey, type TrustManifestHolder } from '@mcx/signing';
import type { DerivedLinkageKey } from '@mcx/linkage';
import type { FanOut, PeerResult } from '@mcx/federation';
import { injectTraceHeaders, withSpan } from '@mcx/telemetry';
import type { EpisodeRecord } from '../modules/episode/episode-model.js';
import type { AssociatePointerRecord } from '../modules/disclosure/disclose.js';
import type { StoredRecord } from '../modules/records/record-kind.js';
import { PEER_HISTORY, PEER_PATH, peerAudience, requestHash, type PeerOperation } from './peer-operations.js';

/** Node tokens live this long: enough for the deadline, far below the 60 s ceiling. */
const TOKEN_TTL_SEC = 30;

export type MemberStatus = 'ANSWERED' | 'TIMED_OUT' | 'REFUSED' | 'UNAVAILABLE' | 'CIRCUIT_OPEN' | 'BAD_DATA';

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
  withheld: { restricted: number; reviewOverdue: number; notDisclosable: number } | null;
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

export interface FederatedHistory {
  members: MemberResult[];
  completeness: 'COMPLETE' | 'PARTIAL';
  episodes: FederatedEpisodeModel[];
  associates: StoredRecord<AssociatePointerRecord>[];
  /** The receipts to store, one per answering member. */
  receipts: { peer: string; peerEntryId: string; receiptJws: string }[];
}

export interface FederationClientDeps {
  forceCode: string;
  holder: TrustManifestHolder;
  peerTokenKey: SigningKey<'peer-token'>;
  fanOut: FanOut;
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

interface HistoryWire {
  matches: PeerMatch[];
  records: SignedRecordWire[];
  withheld: MemberResult['withheld'];
}

const STATUS: Record<PeerResult['status'], MemberStatus> = {
  answered: 'ANSWERED',
  timed_out: 'TIMED_OUT',
  refused: 'REFUSED',
  unavailable: 'UNAVAILABLE',
  circuit_open: 'CIRCUIT_OPEN',
  bad_data: 'BAD_DATA',
};

function isHistory(v: unknown): v is HistoryWire {
  const h = v as Partial<HistoryWire> | null;
  return typeof h === 'object' && h !== null && Array.isArray(h.matches) && Array.isArray(h.records) && typeof h.withheld === 'object' && h.withheld !== null;
}

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

  /** The members that offer `op` (this node among them, when it does). */
  members(op: PeerOperation): { code: string; endpoint: string }[] {
    return (this.deps.holder.manifest?.members ?? []).filter((m) => m.capabilities.includes(op.name)).map((m) => ({ code: m.code, endpoint: m.endpoint }));
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
          act: { sub: v.subject, iss: v.issuer, org_kind: v.orgKind, role: 'investigator' },
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
   * Asks every member offering mcx.history/1 for a child's episodes, by linkage keys. The
   * caller has already committed its consultation entry (`callerEntry`, `MEMBER:seq`).
   */
  async history(read: AuthorisedRead, keys: readonly DerivedLinkageKey[], callerEntry: string): Promise<FederatedHistory> {
    const variables = { keys: keys.map((k) => ({ kind: k.kind, strength: k.strength, keyVersion: k.keyVersion, key: k.key, ...(k.variant ? { variant: k.variant } : {}) })) };
    const hash = requestHash(PEER_HISTORY.hash, variables);
    const body = JSON.stringify({ id: PEER_HISTORY.hash, variables });
    const members = this.members(PEER_HISTORY);
    const results = await Promise.all(members.map((m) => this.ask(m, read, callerEntry, hash, body)));
    const completeness = results.every((r) => r.result.status === 'ANSWERED') ? 'COMPLETE' : 'PARTIAL';
    return {
      members: results.map((r) => r.result),
      completeness,
      episodes: results.flatMap((r) => r.episodes),
      associates: results.flatMap((r) => r.associates),
      receipts: results.flatMap((r) => (r.receipt ? [r.receipt] : [])),
    };
  }

  /** One member's part, in its own span (the trace context goes with the request). */
  private ask(m: { code: string; endpoint: string }, read: AuthorisedRead, callerEntry: string, hash: string, body: string): Promise<ReturnType<FederationClient['check']>> {
    if (this.deps.requireHttps && !m.endpoint.startsWith('https://')) {
      return Promise.resolve({ result: { member: m.code, status: 'UNAVAILABLE', reason: 'INSECURE_ENDPOINT', latencyMs: 0, withheld: null, dropped: [] }, episodes: [], associates: [], receipt: null });
    }
    const attributes = { 'mcx.node': this.deps.forceCode, 'mcx.peer': m.code, 'mcx.operation': PEER_HISTORY.name };
    return withSpan('mcx.peer.call', { kind: 'client', attributes }, async (span) => {
      const { jwt, jti } = this.token(m.code, read, callerEntry, hash);
      const headers = injectTraceHeaders({ authorization: `Bearer ${jwt}` });
      const [result] = await this.deps.fanOut.call([{ member: m.code, url: new URL(PEER_PATH, m.endpoint).toString(), headers, body }]);
      const checked = this.check(m.code, result!, jti, callerEntry);
      span.setAttributes({ 'mcx.peer.status': checked.result.status, 'mcx.peer.latency_ms': checked.result.latencyMs, 'mcx.peer.dropped': checked.result.dropped.length });
      return checked;
    });
  }

  /** Checks one member's answer: its receipt, then every record in it. */
  private check(member: string, r: PeerResult, jti: string, callerEntry: string) {
    const base: MemberResult = { member, status: STATUS[r.status], reason: r.reason, latencyMs: Math.round(r.latencyMs), withheld: null, dropped: [] };
    const empty = { episodes: [] as FederatedEpisodeModel[], associates: [] as StoredRecord<AssociatePointerRecord>[], receipt: null as FederatedHistory['receipts'][number] | null };
    const body = r.body as { data?: { peerHistory?: unknown }; receipt?: unknown } | null;
    if (r.status === 'refused') {
      // The member's refusal code (x-mcx-refusal), when it gave one; else the HTTP status.
      const code = r.responseHeaders['x-mcx-refusal'];
      return { result: { ...base, reason: code && /^[A-Z0-9_:]{1,64}$/.test(code) ? code : r.reason }, ...empty };
    }
    if (r.status !== 'answered') return { result: base, ...empty };
    const bad = (reason: string) => ({ result: { ...base, status: 'BAD_DATA' as const, reason }, ...empty });
    const history = body?.data?.peerHistory;
    if (!isHistory(history)) return bad('MALFORMED_ANSWER');
    // The receipt: signed by the answering member's audit key, for this token and this entry.
    let receiptEntry: string;
    try {
      const { receipt, kid } = verifyReceipt(body!.receipt as string, this.deps.holder.keyResolver('audit-checkpoint'));
      if (receipt.node !== member || this.deps.holder.ownerOfKid(kid)?.code !== member || receipt.jti !== jti || receipt.callerEntry !== callerEntry || receipt.to !== this.deps.forceCode) return bad('RECEIPT_MISMATCH');
      receiptEntry = receipt.entry.id;
    } catch {
      return bad('RECEIPT_INVALID');
    }
    const dropped: DroppedRecord[] = [];
    const matches = new Map(history.matches.filter((m) => typeof m?.subjectRef === 'string').map((m) => [m.subjectRef, m]));
    const episodes: FederatedEpisodeModel[] = [];
    const pointers: { wire: SignedRecordWire; record: AssociatePointerRecord }[] = [];
    const seen = new Set<string>();
    const resolver = this.deps.holder.keyResolver('record');
    for (const wire of history.records) {
      const record = parse(wire?.bytes);
      const owner = typeof record?.owner === 'string' ? record.owner : null;
      const id = typeof record?.id === 'string' ? record.id : null;
      const drop = (reason: DroppedRecord['reason']) => dropped.push({ owner, id, reason });
      if (!record || !owner || !id || record.kind !== wire.kind || owner !== wire.owner || id !== wire.id) {
        drop('MALFORMED');
        continue;
      }
      // Only the owner may answer for its records: a member never relays another's.
      if (owner !== member) {
        drop('WRONG_OWNER');
        continue;
      }
      const verified = verifyRecord(wire.bytes, wire.signature, resolver);
      if (!verified.valid || this.deps.holder.ownerOfKid(verified.kid)?.code !== member) {
        drop('BAD_SIGNATURE');
        continue;
      }
      const key = `${record.kind}/${owner}/${id}`;
      if (seen.has(key)) {
        drop('DUPLICATE');
        continue;
      }
      seen.add(key);
      if (record.kind === 'episode' && record.state === 'ACTIVE') {
        const match = matches.get(String(record.subjectRef));
        if (!match) {
          drop('NOT_REQUESTED');
          continue;
        }
        episodes.push({ member, match, episode: { record: record as unknown as EpisodeRecord, bytes: wire.bytes, signature: wire.signature, state: 'ACTIVE' } });
      } else if (record.kind === 'associate' && record.schema === 'mcx.associate-pointer/1') {
        pointers.push({ wire, record: record as unknown as AssociatePointerRecord });
      } else {
        drop('NOT_REQUESTED');
      }
    }
    // A pointer is asked for only when an episode of this answer names it.
    const named = new Set(episodes.flatMap((e) => e.episode.record.facts.associates.map((a) => `${a.owner}/${a.associateId}`)));
    const associates: StoredRecord<AssociatePointerRecord>[] = [];
    for (const p of pointers) {
      if (!named.has(`${p.record.owner}/${p.record.id}`)) dropped.push({ owner: p.record.owner, id: p.record.id, reason: 'NOT_REQUESTED' });
      else associates.push({ record: p.record, bytes: p.wire.bytes, signature: p.wire.signature, state: 'ACTIVE' });
    }
    const result: MemberResult = { ...base, withheld: history.withheld, dropped, ...(dropped.length > 0 ? { status: 'BAD_DATA' as const, reason: 'RECORDS_DROPPED' } : {}) };
    return { result, episodes, associates, receipt: { peer: member, peerEntryId: receiptEntry, receiptJws: body!.receipt as string } };
  }
}
