/**
 * Alert messages between nodes: ids derived from what they are about, signed with the sender's
 * record key under their own JWS `typ` (`mcx-alert+jws`), so that no record, peer token or
 * checkpoint passes for an alert, nor an alert for any of them; and their `sentAt` checked.
 */
import { createHash, sign, verify } from 'node:crypto';

import { ALERT_TYP, AlertMessageWire, type AlertMessage } from '@mcx/federation';
import { canonicalJson, parseCanonicalJson, type KeyResolver, type SigningKey } from '@mcx/signing';

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

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const B64URL = /^[A-Za-z0-9_-]+$/;

/** The canonical bytes (RFC 8785) of an alert message and their detached EdDSA JWS, `typ` mcx-alert+jws. */
export function signAlert(message: object, key: SigningKey<'record'>): { bytes: string; signature: string } {
  const bytes = canonicalJson(message);
  const header = b64(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ: ALERT_TYP }));
  const sig = sign(null, Buffer.from(`${header}.${b64(bytes)}`, 'ascii'), key.privateKey).toString('base64url');
  return { bytes, signature: `${header}..${sig}` };
}

type Verified = { kid: string; payload: object } | { refused: AlertErrorCode };

/** Verifies a detached alert JWS: the header (alg, typ, kid, no crit), one of the record keys, the signature, canonical bytes. */
function verifyAlert(bytes: string, signature: string, keys: KeyResolver): Verified {
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] !== '' || !B64URL.test(parts[0]!) || !B64URL.test(parts[2]!))
    return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  }
  if (typeof header !== 'object' || header === null) return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  if (header.typ !== ALERT_TYP) return { refused: AlertErrorCode.ALERT_WRONG_TYP };
  if (header.alg !== 'EdDSA' || 'crit' in header || 'b64' in header || typeof header.kid !== 'string')
    return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  const lookup = keys(header.kid);
  if (!lookup.found || lookup.job !== 'record') return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  const sig = Buffer.from(parts[2]!, 'base64url');
  const input = Buffer.from(`${parts[0]}.${b64(bytes)}`, 'ascii');
  if (sig.length !== 64 || !verify(null, input, lookup.publicKey, sig)) return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  const parsed = parseCanonicalJson(bytes);
  if (!parsed.canonical || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value))
    return { refused: AlertErrorCode.ALERT_MALFORMED };
  return { kid: header.kid, payload: parsed.value };
}

/** Why a received message was refused, or the message. */
export type ReceivedMessage = { message: AlertMessage; bytes: string; signature: string } | { refused: AlertErrorCode };

/** How old an alert's sentAt may be, and how far ahead of this node's clock. */
export interface AlertClock {
  now: Date;
  maxAgeMs: number;
  skewMs: number;
}

/**
 * Checks a received alert: its JWS is an alert's (typ), signed with one of the sender's record
 * keys from the manifest (and no other member's); the message's shape; that it comes from the
 * member that sent the token and is for this node; that its id is the one derived from its kind,
 * sender, episode and recipient (so no member can take the id of another member's alert, or of
 * this node's own); and that its sentAt is neither older than the maximum nor in the future
 * beyond the skew.
 */
export function readAlertMessage(
  input: { bytes: string; signature: string },
  expected: { from: string; to: string },
  keys: KeyResolver,
  ownerOfKid: (kid: string) => string | undefined,
  clock: AlertClock,
): ReceivedMessage {
  const verified = verifyAlert(input.bytes, input.signature, keys);
  if ('refused' in verified) return verified;
  if (ownerOfKid(verified.kid) !== expected.from) return { refused: AlertErrorCode.ALERT_BAD_SIGNATURE };
  const parsed = AlertMessageWire.safeParse(verified.payload);
  if (!parsed.success) return { refused: AlertErrorCode.ALERT_MALFORMED };
  const m = parsed.data;
  if (m.from !== expected.from || m.to !== expected.to || m.episode.owner !== expected.from)
    return { refused: AlertErrorCode.ALERT_WRONG_PARTY };
  if (m.id !== alertId(m.kind, m.from, m.episode.id, m.to)) return { refused: AlertErrorCode.ALERT_ID_MISMATCH };
  const sentAt = Date.parse(m.sentAt);
  if (sentAt > clock.now.getTime() + clock.skewMs) return { refused: AlertErrorCode.ALERT_FROM_FUTURE };
  if (sentAt < clock.now.getTime() - clock.maxAgeMs) return { refused: AlertErrorCode.ALERT_TOO_OLD };
  return { message: m, bytes: input.bytes, signature: input.signature };
}
