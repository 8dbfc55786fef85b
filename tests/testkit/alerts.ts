/**
 * What the alert tests share (tests/federation/alerts*.test.ts): a synthetic child's identity,
 * publishing subjects and OPEN episodes, reading a node's inbox, waiting for something to
 * happen, a node's audit entries and its database as the owner, and a member's own signed
 * mcx.alert/1 message sent straight to another member's peer endpoint, and a second token issuer
 * a node can be told to accept.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { gql } from 'graphql-tag';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import postgres from 'postgres';
import { expect } from 'vitest';

import { devAudience } from '@mcx/auth';
import type { MissingEpisodeInput } from '@mcx/client';
import { PEER_ALERT, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { syntheticChildren } from '@mcx/linkage';
import { signAlert } from '@mcx/node';
import { signNodeToken } from '@mcx/signing';

import { episodeInput, publishEpisode } from './episodes.js';
import type { TestFederation } from './federation.js';
import { readHeaders, type TestNode } from './node.js';

export const PUBLISH_SUBJECT = gql`
  mutation P($input: McxSubjectInput!) {
    publishSubject(input: $input) {
      errors {
        field
        code
      }
    }
  }
`;

const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;

/** One synthetic child: its record (for the names a test searches for) and the identity a subject is published with. */
export function syntheticChild(seed: number, nhsShare: number) {
  const [child] = syntheticChildren(1, { seed, referenceDate: '2026-11-22', nhsShare });
  const identity = { forename: child!.forename, surname: child!.surname, dob: child!.dob, sex: child!.sex ? SEX[child!.sex] : undefined };
  return { child: child!, identity };
}

/** A review date 400 days away, as each subject is published with. */
export const reviewAt = () => new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

/** Publishes one subject of the child at a node; fails the test on any error. */
export async function publishSubject(node: TestNode, subjectRef: string, identity: object): Promise<void> {
  const { publishSubject: r } = (await node.client.request(PUBLISH_SUBJECT, { input: { subjectRef, reviewAt: reviewAt(), identity } })) as {
    publishSubject: { errors: unknown[] };
  };
  expect(r.errors).toEqual([]);
}

/** An OPEN episode (not found yet) of `subjectRef`; override any field. */
export function openInput(subjectRef: string, overrides: Partial<MissingEpisodeInput> = {}): MissingEpisodeInput {
  return episodeInput({ subjectRef, status: 'OPEN', foundAt: null, foundPlace: null, foundBy: null, ...overrides });
}

/** Publishes an OPEN episode at a node; its id. */
export async function publishOpen(node: TestNode, subjectRef: string, overrides: Partial<MissingEpisodeInput> = {}): Promise<string> {
  const input = openInput(subjectRef, overrides);
  expect((await publishEpisode(node.client, input)).errors).toEqual([]);
  return input.id!;
}

/** Polls `probe` until it gives something other than null, or fails naming `what`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | null>, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs SQL on a node's database as its owner (the test server's superuser). */
export async function ownerSql<T>(node: TestNode, run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(node.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The audit entries of `operation` at a node, oldest first. */
export function auditOps(
  node: TestNode,
  operation: string,
): Promise<{ action: string; requesting_node: string | null; outcome: string; reason: string | null }[]> {
  return ownerSql(
    node,
    (sql) => sql`select action, requesting_node, outcome, entry->>'reason' as reason from audit_entries
                 where entry->'query'->>'operation' = ${operation} order by seq`,
  );
}

/** The `alerts` field of `query` read at a node by an investigator of its force (or as `who` says). */
export async function alertsAt<A>(
  node: TestNode,
  query: Parameters<TestNode['client']['request']>[0],
  who: Partial<Parameters<TestNode['as']>[0]> = {},
  variables: Record<string, unknown> = {},
): Promise<A[]> {
  const force = node.config.forceCode;
  const reader = await node.as({ roles: ['investigator'], headers: readHeaders(force), ...who });
  return ((await reader.request(query, variables)) as { alerts: { nodes: A[] } }).alerts.nodes;
}

/** An mcx.alert/1 message as `from` signs it with its own real record key; override any field. */
export function signedAlert(fed: TestFederation, from: string, to: string, m: { id: string; episodeId: string } & Record<string, unknown>) {
  const { id, episodeId, ...rest } = m;
  return signAlert(
    {
      schema: 'mcx.alert/1',
      id,
      kind: 'CROSS_MATCH',
      from,
      to,
      sentAt: new Date().toISOString(),
      yourSubjectRefs: [`${to}-SUBJ-9`],
      episode: { owner: from, id: episodeId, ownerReference: `${from}-FORGED`, contact24x7: null, riskGrade: 'LOW', reportedAt: null },
      threshold: null,
      ...rest,
    },
    fed.keys[from]!.record,
  );
}

/** mcx.alert/1 sent by `from` to `to` through the peer endpoint, with `from`'s own node token; the answer's text. */
export async function sendAlert(fed: TestFederation, to: TestNode, from: string, alert: { bytes: string; signature: string }) {
  const variables = { alert };
  const token = signNodeToken(
    {
      iss: from,
      aud: peerAudience(to.config.forceCode),
      ttlSec: 30,
      claims: {
        act: { sub: 'system', iss: `https://login.example/${from.toLowerCase()}`, org: from, org_kind: 'police', role: 'investigator' },
        purpose: 'MISSING_LIVE_SEARCH',
        case_ref: `${from}-26-1`,
        caller_entry: `${from}:1`,
        req_hash: requestHash(PEER_ALERT.hash, variables),
      },
    },
    fed.keys[from]!.peerToken,
  );
  const res = await fetch(new URL(PEER_PATH, to.node.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: PEER_ALERT.hash, variables }),
  });
  return JSON.stringify(await res.json());
}

/** Sets environment variables for the nodes a file starts (the alert limits are read from the environment); returns their restorer. */
export function withEnv(vars: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * A second identity provider a node of `force` accepts beside the development issuer (MCX_ISSUERS_FILE
 * set to `file`): another organisation's (police, force `as`), whose administrator mints any `sub`.
 */
export async function otherIssuer(force: string, iss: string, as: string): Promise<{ file: string; token(sub: string): Promise<string> }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'mcx-issuers-')), 'issuers.json');
  const config = {
    id: 'other-idp',
    issuer: iss,
    audience: devAudience(force),
    jwks: { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] },
    algorithms: ['EdDSA'],
    force: as,
    orgKind: 'police',
    typ: 'at+jwt',
    claimMapping: 'plain',
  };
  writeFileSync(file, JSON.stringify([config]));
  /** An investigator's token of this issuer for `sub` (10 minutes). */
  const token = (sub: string) =>
    new SignJWT({ roles: ['investigator'] })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(iss)
      .setAudience(devAudience(force))
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  return { file, token };
}

export { episodeInput, publishEpisode };
