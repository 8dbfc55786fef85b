import { LinkageServiceErrorCode } from './errors.js';
import { HttpError } from './http.js';
import { KEY_VERSION } from './keyring.js';

/** A parsed `POST /v1/evaluate` body (elements still encoded). */
export interface EvaluateRequest {
  keyVersion?: string;
  blinded: string[];
}

// A ristretto255 element is 32 bytes: 43 base64url characters, no padding.
const ELEMENT = /^[A-Za-z0-9_-]{43}$/;

const badRequest = (message: string) => new HttpError(400, LinkageServiceErrorCode.BAD_REQUEST, message);

/** Checks the body's shape and batch size; messages name the field, never its value. */
export function parseEvaluateRequest(body: unknown, maxBatch: number): EvaluateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('the body must be { "keyVersion"?: string, "blinded": string[] }');
  const { keyVersion, blinded, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw badRequest('the body may hold only keyVersion and blinded');
  if (keyVersion !== undefined && (typeof keyVersion !== 'string' || !KEY_VERSION.test(keyVersion))) {
    throw badRequest('keyVersion must be a key version name');
  }
  if (!Array.isArray(blinded)) throw badRequest('blinded must be an array of base64url elements');
  if (blinded.length === 0) throw badRequest('blinded must not be empty');
  if (blinded.length > maxBatch)
    throw new HttpError(400, LinkageServiceErrorCode.BATCH_TOO_LARGE, `a batch holds at most ${maxBatch} elements`);
  blinded.forEach((element, i) => {
    if (typeof element !== 'string' || !ELEMENT.test(element)) throw blindedInvalid(i);
  });
  return keyVersion === undefined ? { blinded: blinded as string[] } : { keyVersion, blinded: blinded as string[] };
}

/** The refusal for element `i` (its position only). */
export function blindedInvalid(i: number): HttpError {
  return new HttpError(400, LinkageServiceErrorCode.BLINDED_INVALID, `blinded element ${i} is not a ristretto255 element`);
}

/** Decodes checked elements; a non-canonical base64url encoding is refused too. */
export function decodeElements(blinded: readonly string[]): Uint8Array[] {
  return blinded.map((element, i) => {
    const bytes = Buffer.from(element, 'base64url');
    if (bytes.length !== 32 || bytes.toString('base64url') !== element) throw blindedInvalid(i);
    return new Uint8Array(bytes);
  });
}
