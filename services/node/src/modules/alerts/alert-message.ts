/** Alert messages between nodes: ids derived from what they are about, signed and verified with record keys. */
import { createHash } from 'node:crypto';

import { AlertMessageWire, type AlertMessage } from '@mcx/federation';
import { verifyRecord, type KeyResolver } from '@mcx/signing';

import { AlertErrorCode } from './alert-model.js';

/**
 * A UUID (version 8) derived from its parts: the same outbox row, recipient or episode version
 * always gives the same id, so a retried job writes nothing twice and a receiver stores it once.
 */
export function derivedId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The id of the alert of `kind` from `from` about an episode, for `to` (its sender's node or another member). */
export function alertId(kind: string, from: string, episodeId: string, to: string): string {
  return derivedId(kind, from, episodeId, to);
}

/** Why a received message was refused, or the message. */
export type ReceivedMessage = { message: AlertMessage; bytes: string; signature: string } | { refused: AlertErrorCode };

/**
 * Checks a received alert: the signature with one of the sender's record keys from the manifest
 * (and no other member's), the message's shape, and that it comes from the member that sent the
 * token and is for this node, and that its id is the one derived from its kind, sender, episode and
 * recipient (so no member can take the id of another member's alert, or of this node's own).
 */
export function readAlertMessage(
  input: { bytes: string; signature: string },
  expected: { from: string; to: string },
  keys: KeyResolver,
  ownerOfKid: (kid: string) => string | undefined,
): ReceivedMessage {
  const verified = verifyRecord(input.bytes, input.signature, keys);
  if (!verified.valid) return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  if (ownerOfKid(verified.kid) !== expected.from) return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  const parsed = AlertMessageWire.safeParse(verified.payload);
  if (!parsed.success) return { refused: AlertErrorCode.ALERT_MALFORMED };
  const m = parsed.data;
  if (m.from !== expected.from || m.to !== expected.to || m.episode.owner !== expected.from)
    return { refused: AlertErrorCode.ALERT_WRONG_PARTY };
  if (m.id !== alertId(m.kind, m.from, m.episode.id, m.to)) return { refused: AlertErrorCode.ALERT_ID_MISMATCH };
  return { message: m, bytes: input.bytes, signature: input.signature };
}
