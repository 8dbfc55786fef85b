#!/usr/bin/env node
// Mends a fault in the `postgres` driver (3.4.9, the newest release) that can leave a transaction
// open on a pooled connection: porsager/postgres#823, #1189, #1210; the fix proposed in #1218.
//
// sql.begin() sends BEGIN with an `onexecute` hook that reserves the connection for the
// transaction. The driver ran the hook as the last term of an && chain that also decides whether
// the connection may take more queries: when BEGIN was written to a connection whose socket was
// already full (under load: every connection busy, so BEGIN is pipelined onto one), the chain
// stopped early and the hook never ran. PostgreSQL had entered the transaction all the same; the
// driver refused it (UNSAFE_TRANSACTION) and handed the connection back to the pool, where the
// next queries ran inside that open transaction. Seen here as an audit append failing under load
// with two node instances on one database.
//
// The fix runs the hook whenever BEGIN has been written, whatever the connection's capacity, and
// keeps what execute() returns otherwise. Run by `npm ci` / `npm install` (postinstall) and by
// deploy/Dockerfile after its `npm ci --ignore-scripts`. It changes nothing when the driver is
// already mended, and fails loudly when the driver's code is neither the faulty nor the mended
// form (a new release: check whether it still needs this, then update or remove the script).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const FAULTY = `      return write(toBuffer(q))
        && !q.describeFirst
        && !q.cursorFn
        && sent.length < max_pipeline
        && (!q.options.onexecute || q.options.onexecute(connection))`;
const MENDED = `      const written = write(toBuffer(q))
      // Mended by the MCX node's scripts/patch-postgres.mjs (porsager/postgres#1218): reserve on every BEGIN written.
      if (q.options.onexecute)
        return q.options.onexecute(connection), false
      return written
        && !q.describeFirst
        && !q.cursorFn
        && sent.length < max_pipeline`;

/** The driver's folder (its package.json is not exported: up from its entry point), or null when it is not installed. */
function driverRoot() {
  let entry;
  try {
    entry = createRequire(import.meta.url).resolve('postgres');
  } catch {
    return null;
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'postgres') return dir;
    } catch {
      // no package.json here (or one of a subfolder without a name): look further up
    }
  }
  return null;
}

const root = driverRoot();
// Not installed here (an install of another workspace only): nothing to mend.
if (root === null) process.exit(0);
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let mended = 0;
for (const file of ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js']) {
  const at = path.join(root, file);
  let text;
  try {
    text = readFileSync(at, 'utf8');
  } catch {
    continue;
  }
  if (text.includes(MENDED)) continue;
  if (!text.includes(FAULTY)) {
    process.stderr.write(
      `patch-postgres: postgres ${version} ${file} is neither the faulty nor the mended form; see scripts/patch-postgres.mjs\n`,
    );
    process.exit(1);
  }
  writeFileSync(at, text.replace(FAULTY, MENDED));
  mended += 1;
}
if (mended > 0)
  process.stdout.write(`patch-postgres: mended sql.begin's connection reservation in postgres ${version} (${mended} files)\n`);
