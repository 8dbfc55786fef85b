/**
 * `mcx import` (packages/cli/src/commands/import.ts): a force's history, published in-process
 * through the node's own GraphQL mutations (publishSubject, publishAssociates,
 * publishLocationsOfConcern, publishEpisodes), so every record is validated, signed and audited
 * exactly as a publish over HTTP, by a fixed publisher actor `mcx-import`. Publishing is
 * idempotent: a record already stored with the same content is recognised, not stored again.
 */
import { randomUUID } from 'node:crypto';

import { createDevIssuer, type Viewer } from '@mcx/auth';
import { createDb, runMigrations } from '@mcx/db';
import { createHttpEvaluator } from '@mcx/linkage';
import type { Logger } from '@mcx/logger';

import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { loadTrust } from '../federation/trust.js';
import { loadOrCreateNodeKeys } from '../keys.js';

export const IMPORT_KINDS = ['subjects', 'associates', 'locations-of-concern', 'episodes'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** The batch mutation of each kind (subjects have none: one publishSubject each). */
const MUTATIONS: Record<ImportKind, { query: string; field: string; batch: boolean }> = {
  subjects: {
    query: 'mutation Import($input: McxSubjectInput!) { publishSubject(input: $input) { errors { field code index } } }',
    field: 'publishSubject',
    batch: false,
  },
  associates: {
    query: 'mutation Import($inputs: [McxAssociateInput!]!) { publishAssociates(inputs: $inputs) { errors { field code index } } }',
    field: 'publishAssociates',
    batch: true,
  },
  'locations-of-concern': {
    query:
      'mutation Import($inputs: [McxLocationOfConcernInput!]!) { publishLocationsOfConcern(inputs: $inputs) { errors { field code index } } }',
    field: 'publishLocationsOfConcern',
    batch: true,
  },
  episodes: {
    query: 'mutation Import($inputs: [MissingEpisodeInput!]!) { publishEpisodes(inputs: $inputs) { errors { field code index } } }',
    field: 'publishEpisodes',
    batch: true,
  },
};

/** A refused input: its position in what was given, and codes only (never its content). */
export interface Refusal {
  index: number;
  code: string;
  field: string | null;
}

export interface Importer {
  /** Publishes inputs of one kind (at most 1000); returns the refused ones. The rest are stored (or were already). */
  publish(kind: ImportKind, inputs: readonly unknown[]): Promise<Refusal[]>;
  /** Record versions and subjects this force's database holds (to show what a run stored). */
  storedCount(): Promise<number>;
  close(): Promise<void>;
}

const IMPORT_ACTOR = (force: string): Viewer => ({
  subject: 'mcx-import',
  issuer: 'mcx-node',
  force,
  orgKind: 'police',
  roles: ['publisher'],
  tokenKind: 'client',
});

type Answer = { errors: { field: string; code: string; index?: number | null }[] } | { failed: string };

/** Opens the node's services on its database, as the node would (keys, trust, linkage), without listening. */
export async function openImporter({
  config,
  logger,
  databaseUrl,
}: {
  config: Config;
  logger: Logger;
  databaseUrl: string;
}): Promise<Importer> {
  const keys = await loadOrCreateNodeKeys(config.keysDir, { allowGenerate: config.env !== 'production' });
  await runMigrations(config.migrationDatabaseUrl ?? databaseUrl);
  const db = createDb(databaseUrl, {
    max: 4,
    applicationName: `mcx-import-${config.forceCode}`,
    role: config.dbRole,
    prepare: config.dbPrepare,
  });
  const trust = config.trust ? await loadTrust(config.trust, db.db, logger) : null;
  const linkage = config.linkage;
  const linkageEvaluator = linkage
    ? createHttpEvaluator({ url: linkage.url, member: config.forceCode, audience: linkage.audience, peerTokenKey: keys.peerToken })
    : null;
  // The import verifies no token: a throwaway development issuer stands in where the node would load its own.
  const devIssuer = config.auth.devIssuer ? await createDevIssuer() : null;
  const app = await createApp({ config, db, logger, keys, trust, linkageEvaluator, devIssuer });
  await app.apollo.start();
  const principal = { viewer: IMPORT_ACTOR(config.forceCode), claims: {}, forwarded: null };

  const run = async (kind: ImportKind, variables: Record<string, unknown>): Promise<Answer> => {
    const m = MUTATIONS[kind];
    const contextValue = app.graphqlContext({ requestId: randomUUID(), logger, principal, headers: {}, source: 'mcx-import' });
    const res = await app.apollo.executeOperation({ query: m.query, variables }, { contextValue });
    if (res.body.kind !== 'single') throw new Error('unexpected incremental answer');
    const { data, errors } = res.body.singleResult;
    if (errors?.length) return { failed: String(errors[0]!.extensions?.code ?? 'INTERNAL_SERVER_ERROR') };
    return (data as Record<string, { errors: { field: string; code: string; index?: number | null }[] }>)[m.field]!;
  };

  /** One input alone: its field errors, or the request's error code when its shape is wrong (BAD_USER_INPUT). */
  const one = async (kind: ImportKind, input: unknown, index: number): Promise<Refusal[]> => {
    const answer = await run(kind, MUTATIONS[kind].batch ? { inputs: [input] } : { input });
    if ('failed' in answer) {
      if (answer.failed !== 'BAD_USER_INPUT') throw new Error(`import stopped: the node answered ${answer.failed}`);
      return [{ index, code: answer.failed, field: null }];
    }
    return answer.errors.map((e) => ({ index, code: e.code, field: e.field }));
  };

  /** A batch is all-or-nothing: the refused are taken out and the rest published again; a malformed batch is halved. */
  const batch = async (kind: ImportKind, items: { input: unknown; index: number }[]): Promise<Refusal[]> => {
    if (items.length === 0) return [];
    if (items.length === 1) return one(kind, items[0]!.input, items[0]!.index);
    const answer = await run(kind, { inputs: items.map((i) => i.input) });
    if ('failed' in answer) {
      if (answer.failed !== 'BAD_USER_INPUT') throw new Error(`import stopped: the node answered ${answer.failed}`);
      const half = Math.ceil(items.length / 2);
      return [...(await batch(kind, items.slice(0, half))), ...(await batch(kind, items.slice(half)))];
    }
    if (answer.errors.length === 0) return [];
    const refused = answer.errors
      .filter((e) => typeof e.index === 'number')
      .map((e) => ({ index: items[e.index!]!.index, code: e.code, field: e.field }));
    // An error without an index (none expected) refuses nothing by itself: publish one by one.
    if (refused.length === 0) return (await Promise.all(items.map((i) => one(kind, i.input, i.index)))).flat();
    const out = new Set(refused.map((r) => r.index));
    return [
      ...refused,
      ...(await batch(
        kind,
        items.filter((i) => !out.has(i.index)),
      )),
    ];
  };

  return {
    async publish(kind, inputs) {
      const items = inputs.map((input, index) => ({ input, index }));
      if (MUTATIONS[kind].batch) return batch(kind, items);
      const refused: Refusal[] = [];
      for (const i of items) refused.push(...(await one(kind, i.input, i.index)));
      return refused;
    },
    async storedCount() {
      const [row] = await db.sql<{ n: number }[]>`
        select ((select count(*) from record_versions) + (select count(*) from subjects))::int as n`;
      return row?.n ?? 0;
    },
    async close() {
      await app.stop();
      await db.close();
    },
  };
}
