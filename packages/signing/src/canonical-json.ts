import canonicalize from 'canonicalize';

import { McxError } from '@mcx/errors';

import { CanonicalJsonErrorCode } from './signing-errors.js';

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** RFC 8785 (JCS) canonical JSON of a value; throws `NOT_JSON` for cycles, NaN, BigInt or lone surrogates. */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (cause) {
    throw new McxError(CanonicalJsonErrorCode.NOT_JSON, 'value has no canonical JSON form', { cause });
  }
  if (text === undefined) throw new McxError(CanonicalJsonErrorCode.NOT_JSON, 'value has no JSON representation');
  return text;
}

/** Parses `text` and returns the value only if `text` is already its own RFC 8785 canonical form. */
export function parseCanonicalJson(text: string): { canonical: true; value: JsonValue } | { canonical: false } {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return { canonical: false };
  }
  try {
    return canonicalize(value) === text ? { canonical: true, value } : { canonical: false };
  } catch {
    return { canonical: false };
  }
}
