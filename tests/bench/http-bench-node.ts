// One node for tests/bench/http-bench.ts, in a process of its own, started from the source tree
// given as the first argument (this checkout, or an older commit checked out beside it): every
// module it runs, @mcx/* packages included, comes from that tree. It prints { url, token } on one
// line and runs until its standard input closes.
//   node --import tsx tests/bench/http-bench-node.ts <tree> <database-url> <force>
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const [root, databaseUrl, force] = process.argv.slice(2) as [string, string, string];
const from = (file: string) => import(pathToFileURL(path.join(root, file)).href);
const { createDevIssuer, devAudience } = await from('packages/auth/src/index.ts');
const { createLogger } = await from('packages/logger/src/index.ts');
// Older trees exported the node's API from index.ts; newer ones from public.ts.
const nodeApi = existsSync(path.join(root, 'services/node/src/public.ts')) ? 'services/node/src/public.ts' : 'services/node/src/index.ts';
const { parseConfig, startNode } = await from(nodeApi);

const config = parseConfig({
  MCX_ENV: 'test',
  MCX_FORCE_CODE: force,
  PORT: '0',
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'info',
  MCX_AUDIT_CHECKPOINT_SECONDS: '0',
});
// Logging at info, as in production (one line a request), into a sink: the lines cost what they cost, unprinted.
const logger = createLogger({ level: 'info', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const issuer = await createDevIssuer();
const node = await startNode(config, logger, databaseUrl, { devIssuer: issuer });
const token = await issuer.mintToken({
  roles: ['investigator'],
  force,
  orgKind: 'police',
  subject: 'bench',
  kind: 'user',
  ttlSec: 3600,
  audience: devAudience(force),
});
process.stdout.write(`${JSON.stringify({ url: node.url, token })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void node.close().then(() => process.exit(0)));
