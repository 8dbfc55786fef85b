import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { PURPOSES } from '@mcx/auth';
import { McxError } from '@mcx/errors';

import { loadIssuers } from './auth/access.js';
import type { Config } from './config.js';
import { NodeErrorCode } from './errors.js';

/** The roles the development sign-in offers: the people the console is for. */
export const DEV_SIGN_IN_ROLES = ['investigator', 'auditor', 'operator'] as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * One OpenID Connect client of the console, for one issuer the node already trusts: the
 * console signs in with the authorization code flow and PKCE against `authority`, and sends
 * the access token it gets to /graphql, where the issuer's entry in MCX_ISSUERS_FILE verifies it.
 */
const OidcClientSchema = z
  .object({
    /** The `id` of the issuer in MCX_ISSUERS_FILE whose tokens this client gets. */
    issuerId: z.string().min(1),
    /** What the sign-in button says, e.g. "West Midlands Police account". */
    label: z.string().min(1).max(80),
    authority: z.url(),
    clientId: z.string().min(1),
    scopes: z.string().min(1).default('openid'),
  })
  .strict();
export type OidcClient = z.infer<typeof OidcClientSchema>;

/** What the console reads from GET /console/config.json: nothing secret, nothing about a child. */
export interface ConsoleSettings {
  force: string;
  environment: Config['env'];
  purposes: readonly string[];
  caseRef: { pattern: string; maxLength: number };
  idleSeconds: number;
  /** Present only where the development issuer is on (never in production). */
  devSignIn: { roles: readonly string[]; forces: string[] } | null;
  oidc: OidcClient[];
}

/** Reads MCX_CONSOLE_OIDC_FILE: each client must name a trusted issuer, and use https outside loopback development. */
export function loadOidcClients(config: Config): OidcClient[] {
  if (!config.console.oidcFile) return [];
  const parsed = z.array(OidcClientSchema).safeParse(JSON.parse(readFileSync(config.console.oidcFile, 'utf8')));
  if (!parsed.success) {
    throw new McxError(
      NodeErrorCode.CONSOLE_CONFIG_INVALID,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  const trusted = new Set(config.auth.issuersFile ? loadIssuers(config.auth.issuersFile).map((i) => i.id) : []);
  for (const client of parsed.data) {
    if (!trusted.has(client.issuerId))
      throw new McxError(
        NodeErrorCode.CONSOLE_CONFIG_INVALID,
        `console client ${client.label}: issuer ${client.issuerId} is not in MCX_ISSUERS_FILE`,
      );
    const url = new URL(client.authority);
    const loopbackHttp = url.protocol === 'http:' && LOOPBACK.has(url.hostname) && config.env !== 'production';
    if (url.protocol !== 'https:' && !loopbackHttp)
      throw new McxError(NodeErrorCode.CONSOLE_CONFIG_INVALID, `console client ${client.label}: the authority must be https`);
  }
  return parsed.data;
}

export function consoleSettings(config: Config, oidc: OidcClient[], members: string[]): ConsoleSettings {
  const devSignIn = config.env !== 'production' && config.auth.devIssuer;
  return {
    force: config.forceCode,
    environment: config.env,
    purposes: PURPOSES,
    caseRef: { pattern: config.auth.caseRef.caseRefPattern.source, maxLength: config.auth.caseRef.caseRefMaxLength },
    idleSeconds: config.console.idleSeconds,
    devSignIn: devSignIn
      ? { roles: DEV_SIGN_IN_ROLES, forces: [config.forceCode, ...members.filter((m) => m !== config.forceCode)] }
      : null,
    oidc,
  };
}

/**
 * The console page's policy: its own scripts, styles and images only, and calls to this node
 * and to the configured sign-in authorities (the token endpoint is fetched from the browser).
 */
export function consoleCsp(oidc: OidcClient[]): string {
  const authorities = [...new Set(oidc.map((c) => new URL(c.authority).origin))];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    ['connect-src', "'self'", ...authorities].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}
