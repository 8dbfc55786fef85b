/**
 * The answers of the allow-listed operations as they arrive from a member, checked before
 * anything in them is used. A member's answer that does not parse is that member's BAD_DATA
 * (MALFORMED_ANSWER), never an error for the whole read. Records travel as `unknown` here: each
 * one is checked on its own (SignedRecordWire, then its signature and its record schema), so one
 * bad record is dropped without losing the rest of the answer.
 */
import { z } from 'zod';

const code = z.string().min(1).max(64);
const count = z.number().int().min(0).max(1_000_000);
const answerRecords = z.array(z.unknown()).max(10_000);

/** One signed record as the peer operations carry it (McxPeerSignedRecord): the envelope and the signed bytes. */
export const SignedRecordWire = z.object({
  kind: z.string(),
  owner: z.string(),
  id: z.string(),
  version: z.number(),
  bytes: z.string(),
  signature: z.string(),
});
export type SignedRecordWire = z.infer<typeof SignedRecordWire>;

/** The counts a member says it withheld (McxWithheldCounts); integrityFault is absent or null from peer protocol version 1. */
export const WithheldCountsWire = z.strictObject({
  restricted: count,
  reviewOverdue: count,
  notDisclosable: count,
  integrityFault: count.nullable().optional(),
});
export type WithheldCounts = z.infer<typeof WithheldCountsWire>;

/** A subject a member matched (McxPeerMatch): which kinds matched, never the keys. */
export const PeerMatchWire = z.strictObject({
  subjectRef: code,
  strength: z.enum(['STRONG', 'POSSIBLE']),
  matchedKinds: z.array(z.string().max(64)).max(64),
  conflicts: z.array(z.string().max(64)).max(64),
});
export type PeerMatch = z.infer<typeof PeerMatchWire>;

/**
 * An owner's link counts for one of its associates (McxAssociateLinkCounts): each member's count
 * as the owner last stored it, and when that member gave it (`asOf`).
 */
export const AssociateLinkCountsWire = z.strictObject({
  owner: code,
  id: z.uuid(),
  byForce: z.array(z.strictObject({ force: code, children: count, asOf: z.iso.datetime({ offset: true }) })).max(500),
  complete: z.boolean(),
});
export type AssociateLinkCounts = z.infer<typeof AssociateLinkCountsWire>;

/** mcx.history/1: the matches, their episodes and the pointers they name, with the owner's link counts. */
export const PeerHistoryAnswer = z.object({
  matches: z.array(PeerMatchWire).max(1_000),
  records: answerRecords,
  withheld: WithheldCountsWire,
  associateLinks: z.array(AssociateLinkCountsWire).max(1_000),
});

/** mcx.pointers/1: pointers to the associates asked for, with the owner's link counts. */
export const PeerPointersAnswer = z.object({
  records: answerRecords,
  withheld: WithheldCountsWire,
  associateLinks: z.array(AssociateLinkCountsWire).max(1_000),
});

/** mcx.locations/1: locations of concern near the points asked about. */
export const PeerLocationsAnswer = z.object({ records: answerRecords, withheld: WithheldCountsWire });

/** One count of an mcx.associateLinks/1 answer; an entry that is not one is left out, not the answer. */
export const LinkCountWire = z.object({ owner: z.string(), id: z.string(), children: z.number().int().min(0) });
export type LinkCount = z.infer<typeof LinkCountWire>;

/** mcx.associateLinks/1: how many other children the member links to each associate asked about. */
export const PeerLinksAnswer = z.object({ links: z.array(z.unknown()) });
