import { describe, expect, it } from 'vitest';

import { ConfigError, parseConfig } from './config.js';
import { developmentConveniences } from './development-conveniences.js';

const PROD = {
  MCX_ENV: 'production',
  MCX_FORCE_CODE: 'WMP',
  DATABASE_URL: 'postgres://mcx:secret@db.internal:5432/mcx_wmp',
  MCX_ISSUERS_FILE: '/etc/mcx/issuers.json',
  MCX_OPERATOR_PUBLIC_KEY_FILE: '/etc/mcx/operator.pub.pem',
  MCX_MANIFEST_FILE: '/etc/mcx/manifest.jws',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('configuration', () => {
  it('a complete production configuration parses, with the development issuer off', () => {
    const config = parseConfig(PROD);
    expect(config.auth.devIssuer).toBe(false);
    expect(config.graphql.introspection).toBe(false);
    expect(config.databaseUrl).toBe(PROD.DATABASE_URL);
  });

  it.each([
    ['the development issuer', { MCX_DEV_ISSUER: 'true' }, 'MCX_DEV_ISSUER: production refuses the development token issuer'],
    [
      'no DATABASE_URL (the embedded database)',
      { DATABASE_URL: undefined },
      'DATABASE_URL: is required in production: the embedded database is for development only',
    ],
    ['no issuers', { MCX_ISSUERS_FILE: undefined }, 'MCX_ISSUERS_FILE: is required in production: the token issuers this node accepts'],
    [
      'no pinned operator key',
      { MCX_OPERATOR_PUBLIC_KEY_FILE: undefined },
      'MCX_OPERATOR_PUBLIC_KEY_FILE: is required in production: the node pins the federation operator key',
    ],
    ['introspection', { MCX_INTROSPECTION: 'true' }, 'MCX_INTROSPECTION: must be off in production'],
    [
      'an associate details source over http',
      { MCX_ASSOCIATE_DETAILS_URL: 'http://rms.local/name' },
      'MCX_ASSOCIATE_DETAILS_URL: must be https in production',
    ],
    [
      'an alert webhook over http',
      { MCX_ALERT_WEBHOOK_URL: 'http://force.local/alerts' },
      'MCX_ALERT_WEBHOOK_URL: must be https in production',
    ],
  ])('production refuses %s', (_label, change, problem) => {
    expect(problems({ ...PROD, ...change })).toContain(problem);
  });

  it('`mcx db migrate` in production needs a database and nothing a serving node needs', () => {
    const owner = 'postgres://mcx_owner:secret@db.internal:5432/mcx_wmp';
    const migrate = parseConfig({ MCX_ENV: 'production', MCX_MIGRATION_DATABASE_URL: owner }, { purpose: 'migrate' });
    expect(migrate.migrationDatabaseUrl).toBe(owner);
    expect(parseConfig({ MCX_ENV: 'production', DATABASE_URL: owner }, { purpose: 'migrate' }).databaseUrl).toBe(owner);
    expect(() => parseConfig({ MCX_ENV: 'production' }, { purpose: 'migrate' })).toThrow(
      'MCX_MIGRATION_DATABASE_URL: is required in production (or DATABASE_URL): the schema owner that applies the migrations',
    );
    // A serving node still needs everything.
    expect(problems({ MCX_ENV: 'production', MCX_MIGRATION_DATABASE_URL: owner })).toEqual([
      'DATABASE_URL: is required in production: the embedded database is for development only',
      'MCX_FORCE_CODE: is required in production',
      'MCX_OPERATOR_PUBLIC_KEY_FILE: is required in production: the node pins the federation operator key',
      'MCX_MANIFEST_FILE: is required in production',
      'MCX_ISSUERS_FILE: is required in production: the token issuers this node accepts',
    ]);
  });

  it('federation: production calls members over https only unless MCX_PEER_ALLOW_HTTP; the deadline is at least the per-peer timeout', () => {
    expect(parseConfig(PROD).federation).toMatchObject({ peerTimeoutMs: 1000, deadlineMs: 1500, requireHttps: true });
    expect(parseConfig({ ...PROD, MCX_PEER_ALLOW_HTTP: 'true' }).federation.requireHttps).toBe(false);
    expect(parseConfig({}).federation.requireHttps).toBe(false);
    expect(problems({ MCX_PEER_TIMEOUT_MS: '2000', MCX_FEDERATION_DEADLINE_MS: '1000' })).toEqual([
      'MCX_FEDERATION_DEADLINE_MS: must be at least MCX_PEER_TIMEOUT_MS',
    ]);
    expect(problems({ MCX_OTEL_EXPORTER: 'otlp' })).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: is required when MCX_OTEL_EXPORTER is otlp',
    ]);
    expect(parseConfig({}).history).toEqual({ repeat: { count: 3, days: 90 }, nearMetres: 500 });
  });

  it('lists every problem at once', () => {
    const found = problems({ MCX_ENV: 'production', PORT: 'eighty', MCX_FORCE_CODE: 'west midlands' });
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^PORT:/), expect.stringMatching(/^MCX_FORCE_CODE:/)]));
    expect(found.length).toBeGreaterThanOrEqual(2);
  });

  it('development defaults: embedded database, development issuer, WMP', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      env: 'development',
      databaseUrl: null,
      forceCode: 'WMP',
      auth: { devIssuer: true, issuersFile: null },
      trust: null,
    });
    expect(config.auth.caseRef.caseRefPattern.test('WMP-26-1001')).toBe(true);
    expect(config.auth.caseRef.caseRefPattern.test('Olivia Hart')).toBe(false);
  });

  it('refuses an unanchored case reference pattern', () => {
    expect(problems({ MCX_CASE_REF_PATTERN: '[A-Z]+' })).toEqual(['MCX_CASE_REF_PATTERN: must be anchored with ^ and $']);
  });

  describe('MCX_ENV is the only switch', () => {
    const REFUSAL =
      'MCX_ENV: NODE_ENV=production but MCX_ENV is unset: set MCX_ENV=production for a production node, or MCX_ENV=development to run one for development';

    it('NODE_ENV=production without MCX_ENV refuses to start, saying which to set', () => {
      expect(problems({ NODE_ENV: 'production' })).toEqual([REFUSAL]);
      // Even with everything else a production node needs: the node does not guess which was meant.
      expect(problems({ ...PROD, MCX_ENV: undefined, NODE_ENV: 'production' })).toEqual([REFUSAL]);
      // However a deployment tool spells it.
      for (const spelling of ['Production', 'PRODUCTION', 'production ', ' production'])
        expect(problems({ NODE_ENV: spelling }), spelling).toEqual([REFUSAL]);
    });

    it("the test mode (the suite's conveniences) is refused where NODE_ENV says production", () => {
      expect(problems({ MCX_ENV: 'test', NODE_ENV: 'production' })).toEqual([
        'MCX_ENV: MCX_ENV=test is for the test suite, and NODE_ENV says production: set MCX_ENV=production',
      ]);
    });

    it('with MCX_ENV set, NODE_ENV changes nothing', () => {
      const devOnProductionRuntime = parseConfig({ MCX_ENV: 'development', NODE_ENV: 'production' });
      expect(devOnProductionRuntime).toEqual(parseConfig({ MCX_ENV: 'development' }));
      expect(devOnProductionRuntime.env).toBe('development');
      expect(parseConfig({ ...PROD, NODE_ENV: 'development' })).toEqual(parseConfig(PROD));
      expect(parseConfig({ ...PROD, NODE_ENV: 'production' })).toEqual(parseConfig(PROD));
    });

    it('neither set is a development node, as before', () => {
      expect(parseConfig({}).env).toBe('development');
      expect(parseConfig({ NODE_ENV: 'development' })).toEqual(parseConfig({}));
    });

    it('names every development convenience a development node has on', () => {
      expect(developmentConveniences(parseConfig({})).map((c) => c.code)).toEqual([
        'EMBEDDED_DATABASE',
        'DEV_ISSUER',
        'INTROSPECTION',
        'SUBGRAPH_ENTRY_OPEN',
        'KEYS_GENERATED',
        'PRIVILEGED_LOGIN_TOLERATED',
        'NOT_FEDERATED',
      ]);
      const federated = parseConfig({
        MCX_OPERATOR_PUBLIC_KEY_FILE: '/etc/mcx/operator.pub.pem',
        MCX_MANIFEST_FILE: '/etc/mcx/manifest.jws',
        DATABASE_URL: PROD.DATABASE_URL,
        MCX_DEV_ISSUER: 'false',
        MCX_INTROSPECTION: 'false',
        MCX_LINKAGE_URL: 'http://linkage.local',
        MCX_ASSOCIATE_DETAILS_URL: 'http://rms.local/name',
      });
      expect(developmentConveniences(federated).map((c) => c.code)).toEqual([
        'SUBGRAPH_ENTRY_OPEN',
        'KEYS_GENERATED',
        'PRIVILEGED_LOGIN_TOLERATED',
        'PEER_PLAIN_HTTP',
        'LINKAGE_PLAIN_HTTP',
        'ASSOCIATE_DETAILS_PLAIN_HTTP',
      ]);
      for (const c of developmentConveniences(parseConfig({}))) expect(c.description).toMatch(/\(.*[A-Z_]{6,}.*\)$/);
    });

    it('a production node has none, except plain-http members it asked for', () => {
      expect(developmentConveniences(parseConfig(PROD))).toEqual([]);
      expect(developmentConveniences(parseConfig({ ...PROD, MCX_PEER_ALLOW_HTTP: 'true' }))).toEqual([
        {
          code: 'PEER_PLAIN_HTTP',
          description: 'calls to member nodes over plain http (MCX_PEER_ALLOW_HTTP, or MCX_ENV other than production)',
        },
      ]);
    });
  });
});
