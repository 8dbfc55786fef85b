import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FastifyPluginAsync, FastifyReply } from 'fastify';

import { devAudience, type Role } from '@mcx/auth';

import type { App } from '../app.js';
import { loadOrCreateDevIssuer } from '../auth/dev-issuer-file.js';
import type { Config } from '../config.js';
import { consoleCsp, consoleSettings, DEV_SIGN_IN_ROLES, loadOidcClients } from '../console-config.js';
import { HttpRefusal, sendRefusal } from './refusals.js';

/** services/console/dist, from this file (services/node/src/http/). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** How long a development sign-in lasts; the console's idle sign-out usually ends it first. */
const DEV_TOKEN_TTL_SEC = 8 * 3600;

interface Built {
  index: Buffer;
  files: Map<string, { body: Buffer; type: string }>;
}

/** The built console, read once into memory (a few hundred KB): null while it has not been built. */
function readBuilt(dir: string): Built | null {
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) return null;
  const files = new Map<string, { body: Buffer; type: string }>();
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = path.posix.join(sub, name);
      const full = path.join(dir, rel);
      if (statSync(full).isDirectory()) walk(rel);
      else files.set(rel, { body: readFileSync(full), type: TYPES[path.extname(name)] ?? 'application/octet-stream' });
    }
  };
  walk('');
  return { index: readFileSync(indexFile), files };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The host name of a Host header or an origin's authority, without its port; lower case. */
function hostName(authority: string): string {
  const name = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.split(':')[0]!;
  return name.toLowerCase();
}

/**
 * True when a request was addressed to this machine by a name only it answers to: the Host is a
 * loopback name (or the address the node was told to listen on, when that is one address), and the
 * Origin, when a browser sent one, is that same host. A web page the developer visits can rebind its
 * own name to 127.0.0.1 and post here as if it were the console (same origin to the browser); its
 * requests carry its own name in Host, so they are refused.
 */
export function fromThisMachine(host: string | undefined, origin: string | undefined, listenHost: string): boolean {
  if (!host) return false;
  const name = hostName(host);
  const allowed = LOOPBACK_HOSTS.has(name) || (listenHost !== '0.0.0.0' && listenHost !== '::' && name === listenHost.toLowerCase());
  if (!allowed) return false;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The investigators' console at /console/, from the same origin as /graphql: the built
 * single-page app (services/console), its settings as JSON, and in development only a sign-in
 * that mints a token from the development issuer. Hashed assets are cached for a year; the page
 * itself is never stored, and carries the console's Content Security Policy.
 */
export const consoleRoutes: FastifyPluginAsync<{ app: App; config: Config }> = async (server, { app, config }) => {
  const dir = config.console.dir ?? DEFAULT_CONSOLE_DIR;
  const oidc = loadOidcClients(config);
  const csp = consoleCsp(oidc);
  const members = () => (app.trust?.holder.manifest?.members ?? []).filter((m) => m.kind === 'police').map((m) => m.code);
  let built = readBuilt(dir);
  let warned = false;

  /** Built after the node started: picked up on the next request. Missing: said once in the log. */
  const current = (): Built | null => {
    if (!built) built = readBuilt(dir);
    if (!built && !warned) {
      warned = true;
      server.log.warn({ dir }, 'the console is not built: run `npm run build` (or `npm run build -w @mcx/console`) and reload /console/');
    }
    return built;
  };

  const page = (reply: FastifyReply) => {
    const b = current();
    if (!b) {
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send('The MCX console has not been built on this node. Run `npm run build`, then reload this page.\n');
    }
    return reply
      .header('content-security-policy', csp)
      .header('cache-control', 'no-store')
      .header('cross-origin-opener-policy', 'same-origin')
      .type(TYPES['.html']!)
      .send(b.index);
  };

  server.get('/console', (_request, reply) => reply.redirect('/console/', 301));
  server.get('/console/', (_request, reply) => page(reply));

  server.get('/console/config.json', (_request, reply) =>
    reply.header('cache-control', 'no-store').send(consoleSettings(config, oidc, members())),
  );

  if (config.env !== 'production' && config.auth.devIssuer) {
    // The same key file startNode loads for the development issuer (MCX_DATA_DIR/dev-issuer.jwk).
    const issuer = await loadOrCreateDevIssuer(config.dataDir);
    server.post<{ Body: { role?: unknown; force?: unknown } }>('/console/dev-sign-in', async (request, reply) => {
      if (!fromThisMachine(request.headers.host, request.headers.origin, config.host))
        return sendRefusal(reply, new HttpRefusal(403, 'FORBIDDEN', 'development sign-in is offered only at a loopback address'), 'plain');
      const { role, force } = request.body ?? {};
      const forces = [config.forceCode, ...members()];
      if (!DEV_SIGN_IN_ROLES.includes(role as (typeof DEV_SIGN_IN_ROLES)[number]) || typeof force !== 'string' || !forces.includes(force))
        return sendRefusal(reply, HttpRefusal.badRequest('BAD_REQUEST', 'choose one of the offered roles and forces'), 'plain');
      const token = await issuer.mintToken({
        role: role as Role,
        force,
        orgKind: 'police',
        subject: `console-${String(role)}-${force.toLowerCase()}`,
        kind: 'user',
        ttlSec: DEV_TOKEN_TTL_SEC,
        audience: devAudience(config.forceCode),
      });
      return reply.header('cache-control', 'no-store').send({ token, role, force, expiresIn: DEV_TOKEN_TTL_SEC });
    });
  }

  server.get<{ Params: { '*': string } }>('/console/*', (request, reply) => {
    const rel = request.params['*'];
    const b = current();
    const file = b?.files.get(rel);
    if (file && rel !== 'index.html') {
      const immutable = rel.startsWith('assets/');
      return reply
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .type(file.type)
        .send(file.body);
    }
    // A deep link (a path with no file extension) is the app's own; a missing file is a 404.
    if (path.posix.extname(rel) !== '') return sendRefusal(reply, new HttpRefusal(404, 'NOT_FOUND', 'no such file'), 'plain');
    return page(reply);
  });
};
