import { readFile } from 'node:fs/promises';

import { z } from 'zod';

import { McxError } from '@mcx/errors';
import { evaluateBatch, generateOprfKey, type LinkageKey } from '@mcx/linkage';

import { LinkageKeysErrorCode } from './errors.js';

/** A key version name: short and plain, since it travels in requests, responses and stored keys. */
export const KEY_VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** One entry of the keys file (`MCX_LINKAGE_KEYS_FILE`). */
export const LinkageKeyEntrySchema = z.strictObject({
  version: z.string().regex(KEY_VERSION),
  key: z.string().regex(/^[0-9a-f]{64}$/i),
  active: z.boolean(),
});

/** The keys file: every version still served, exactly one active. */
export const LinkageKeysFileSchema = z.array(LinkageKeyEntrySchema).min(1);

/** One OPRF key version as stored in the keys file. */
export type LinkageKeyEntry = z.infer<typeof LinkageKeyEntrySchema>;

/** The service's keys: the active one for requests that name none, and older ones for rekey changeover. */
export interface LinkageKeyring {
  readonly active: LinkageKey;
  get(version: string): LinkageKey | undefined;
  /** Versions in file order, with no key material. */
  readonly versions: readonly { version: string; active: boolean }[];
}

/** Validates keys-file entries (shape, one active, unique versions, valid scalars) into a keyring. */
export function buildKeyring(entries: unknown): LinkageKeyring {
  const parsed = LinkageKeysFileSchema.safeParse(entries);
  // The message names paths only: the file holds secrets, so no value is repeated.
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(file)').join(', ');
    throw new McxError(
      LinkageKeysErrorCode.LINKAGE_KEYS_INVALID,
      `linkage keys file must be [{ version, key (64 hex), active }]; problems at: ${where}`,
    );
  }
  const byVersion = new Map<string, LinkageKey>();
  for (const entry of parsed.data) {
    if (byVersion.has(entry.version))
      throw new McxError(LinkageKeysErrorCode.LINKAGE_KEYS_INVALID, `key version ${entry.version} is listed twice`);
    const key = { version: entry.version, key: entry.key.toLowerCase() };
    evaluateBatch(key, []); // checks the scalar now, not on the first request (throws LINKAGE_KEY_INVALID)
    byVersion.set(entry.version, key);
  }
  const active = parsed.data.filter((e) => e.active);
  if (active.length !== 1)
    throw new McxError(LinkageKeysErrorCode.LINKAGE_KEYS_INVALID, `exactly one key must be active, found ${active.length}`);
  return {
    active: byVersion.get(active[0]!.version)!,
    get: (version) => byVersion.get(version),
    versions: parsed.data.map((e) => ({ version: e.version, active: e.active })),
  };
}

/** Reads and validates the keys file. */
export async function loadKeyring(path: string): Promise<LinkageKeyring> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new McxError(LinkageKeysErrorCode.LINKAGE_KEYS_UNREADABLE, `cannot read linkage keys file ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new McxError(LinkageKeysErrorCode.LINKAGE_KEYS_INVALID, `linkage keys file ${path} is not JSON`);
  }
  return buildKeyring(json);
}

/** A new keys file holding one fresh, active key. */
export function newKeysFile(version = 'k1'): LinkageKeyEntry[] {
  if (!KEY_VERSION.test(version))
    throw new McxError(LinkageKeysErrorCode.LINKAGE_KEYS_INVALID, 'key version must match [A-Za-z0-9][A-Za-z0-9._-]{0,31}');
  return [{ ...generateOprfKey(version), active: true }];
}

/** Adds a fresh key as the active one; the previous keys stay, inactive, for the changeover. */
export function addKeyVersion(entries: unknown, version: string): LinkageKeyEntry[] {
  buildKeyring(entries);
  const current = entries as LinkageKeyEntry[];
  if (current.some((e) => e.version === version))
    throw new McxError(LinkageKeysErrorCode.LINKAGE_KEYS_INVALID, `key version ${version} already exists`);
  const [fresh] = newKeysFile(version);
  const next = [...current.map((e) => ({ ...e, active: false })), fresh!];
  buildKeyring(next);
  return next;
}
