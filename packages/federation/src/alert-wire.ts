/**
 * The alert operations' shapes on the wire (mcx.holders/1, mcx.alert/1), checked before use.
 * An alert message carries pointers and counts only: a member, an episode id, the owner's
 * reference and contact, a risk grade, subject references and counts; never a name, a date of
 * birth or a linkage key, and the schema is strict, so nothing else rides along.
 */
import { z } from 'zod';

const code = z.string().regex(/^[A-Z0-9][A-Z0-9_-]{1,15}$/);
const ref = z.string().min(1).max(128);
const count = z.number().int().min(0).max(1_000_000);

/** The JWS `typ` of an alert message: its own, never a record's, a peer token's or a checkpoint's. */
export const ALERT_TYP = 'mcx-alert+jws';

/** The most episodes a holder counts for one matched subject (it counts no more; a claim above is a lie). */
export const MAX_HOLDER_EPISODES = 500;

/** mcx.holders/1 as it may come over the wire: well formed, its counts not yet checked against their bounds. */
export const PeerHoldersShape = z.strictObject({
  matches: z.array(z.strictObject({ subjectRef: ref, episodes: count, recentEpisodes: count })).max(100),
});

/**
 * mcx.holders/1: the holder's subjects matching the keys strongly, each with its episode count.
 * The counts are bounded: at most MAX_HOLDER_EPISODES per subject, the recent ones at most all of
 * them, each subject once. An answer out of range is refused whole (and its member flagged).
 */
export const PeerHoldersAnswer = z.strictObject({
  matches: z
    .array(
      z
        .strictObject({
          subjectRef: ref,
          episodes: z.number().int().min(0).max(MAX_HOLDER_EPISODES),
          recentEpisodes: z.number().int().min(0).max(MAX_HOLDER_EPISODES),
        })
        .refine((m) => m.recentEpisodes <= m.episodes, { message: 'recentEpisodes above episodes' }),
    )
    .max(100)
    .refine((ms) => new Set(ms.map((m) => m.subjectRef)).size === ms.length, { message: 'a subject twice' }),
});

/** mcx.alert/1: the receiver's acknowledgement. */
export const PeerAlertAnswer = z.strictObject({ id: z.uuid(), firstDelivery: z.boolean() });

/** A signed alert message (canonical JSON, signed with the sender's record key). */
export const AlertMessageWire = z.strictObject({
  schema: z.literal('mcx.alert/1'),
  id: z.uuid(),
  kind: z.enum(['CROSS_MATCH', 'REPEAT_THRESHOLD']),
  from: code,
  to: code,
  sentAt: z.iso.datetime({ offset: true }),
  /** Empty for a placing authority that holds no record of the child. */
  yourSubjectRefs: z.array(ref).max(100),
  episode: z.strictObject({
    owner: code,
    id: z.uuid(),
    ownerReference: ref.nullable(),
    contact24x7: z.string().max(64).nullable(),
    riskGrade: z.string().max(32).nullable(),
    reportedAt: z.iso.datetime({ offset: true }).nullable(),
  }),
  /**
   * REPEAT_THRESHOLD: the threshold crossed and the episodes counted across the federation that
   * the owner's policy lets the recipient count (null: it withholds episode counts from it).
   */
  threshold: z.strictObject({ count, days: count, episodes: count.nullable() }).nullable(),
});
export type AlertMessage = z.infer<typeof AlertMessageWire>;
