import { Writable } from 'node:stream';

import { deriveOprfKey } from '@mcx/linkage';
import { createLogger } from '@mcx/logger';
import { addKey, addMember, initManifest, signingKeyFromPem, signManifest, type Member, type TrustManifest } from '@mcx/signing';

import type { LinkageKeyEntry } from './keyring.js';

// Test support: fixed keys (test use only, never deploy), a signed manifest, a test clock and
// captured log lines. What needs PostgreSQL is in testkit-db.ts.

const pem = (body: string) => `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;

/** The frozen start of every test clock. */
export const T0 = new Date('2025-03-01T12:00:00.000Z');

/** Fixed Ed25519 keys: the operator, WMP and GMP peer-token keys, and one no manifest lists. */
export const TEST_KEYS = {
  operator: signingKeyFromPem(pem('MC4CAQAwBQYDK2VwBCIEIFbOD6pD161IWx5hmrqZ/ROsI48lu19WzD2ZR0u6CVIO'), 'manifest'),
  wmpPeer: signingKeyFromPem(pem('MC4CAQAwBQYDK2VwBCIEIBzYWyhslKyvM3Sn4t12yCBBECiFOI3flgKyYHgYDCDB'), 'peer-token'),
  gmpPeer: signingKeyFromPem(pem('MC4CAQAwBQYDK2VwBCIEIIdZXUETYO47TKAM+kROaLN3/QISZxe02E46kBFVzjaR'), 'peer-token'),
  stranger: signingKeyFromPem(pem('MC4CAQAwBQYDK2VwBCIEIM1UJt5A9zBDvXjhkxubZ3fM1YTslPQQ9F6epigqNLC2'), 'peer-token'),
};

/** Two OPRF key versions from fixed seeds: k1 (older) and k2 (active). */
export const OPRF_K1 = deriveOprfKey('k1', new Uint8Array(32).fill(1));
export const OPRF_K2 = deriveOprfKey('k2', new Uint8Array(32).fill(2));
export const KEY_ENTRIES: LinkageKeyEntry[] = [
  { ...OPRF_K1, active: false },
  { ...OPRF_K2, active: true },
];

function member(code: string): Member {
  return {
    code,
    name: `${code} Police`,
    kind: 'police',
    endpoint: `https://mcx.${code.toLowerCase()}.police.example/graphql`,
    contact24x7: '+44 121 000 0000',
    keys: [],
    capabilities: ['searchEpisodes@1'],
  };
}

/** WMP and GMP, each with a peer-token key, valid 30 days from T0. */
export function testManifest(): TrustManifest {
  let m = initManifest({ operatorKid: TEST_KEYS.operator.kid, validDays: 30, graceDays: 7, now: T0 });
  m = addMember(addMember(m, member('WMP')), member('GMP'));
  return addKey(addKey(m, 'WMP', TEST_KEYS.wmpPeer), 'GMP', TEST_KEYS.gmpPeer);
}

/** The manifest above, signed by the test operator. */
export const signedTestManifest = () => signManifest(testManifest(), TEST_KEYS.operator);

/** A clock the test moves by hand. */
export function testClock(start = T0) {
  const clock = { ms: start.getTime(), now: () => new Date(clock.ms), advance: (sec: number) => void (clock.ms += sec * 1000) };
  return clock;
}

/** A pino logger whose JSON lines are kept for assertions. */
export function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { lines, raw, logger: createLogger({ level: 'info', destination }) };
}
