/**
 * For tests only (`@mcx/signing/testing`): a compact JWS over the canonical JSON of `payload`,
 * signed with `key` whatever the payload holds, as a member bent on sending a malformed receipt,
 * checkpoint or seal would sign it. The signers of this package refuse such payloads; the
 * verifiers must refuse them too, and tests show it with what this signs.
 */
import { canonicalJson, type JsonValue } from './canonical-json.js';
import { encodeBase64url, encodeHeader, signInput } from './jws.js';
import type { SigningKey } from './keys.js';

export function signAnyPayload(typ: string, payload: JsonValue, key: SigningKey): string {
  const header = encodeHeader({ alg: 'EdDSA', kid: key.kid, typ });
  const body = encodeBase64url(canonicalJson(payload));
  return `${header}.${body}.${signInput(header, body, key.privateKey)}`;
}
