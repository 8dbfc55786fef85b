import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { ChildHistoryDocument } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';
import { syntheticChildren, type ChildIdentity } from '@mcx/linkage';

import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate } from '../testkit/records.js';
import { memoryTelemetry } from '../testkit/telemetry.js';

// 1,000 synthetic children (invented names, dates of birth in the past, NHS numbers in the 999
// test range) and 100 associates with phones go in through the public mutations. Then no trace
// of any of them may be found in the database, the node's logs, the linkage service's logs, the
// PostgreSQL server log or the raw data files, nor in the answers to bad input.
const PUBLISH_SUBJECT = gql`
  mutation P($input: McxSubjectInput!) {
    publishSubject(input: $input) {
      errors {
        field
        code
        message
      }
    }
  }
`;
const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

let fed: TestFederation;
let logStart = 0;
let dbOid = 0;
let t: TestNode;
const children: ChildIdentity[] = syntheticChildren(1000, { seed: 424242, referenceDate: '2026-11-22', nhsShare: 0.6 });
const phones = Array.from({ length: 100 }, (_, i) => `07700 9${String(i).padStart(5, '0')}`);
const badAnswers: string[] = [];
const federatedAnswers: string[] = [];
// Every span any node makes in this file is kept, to be searched like the logs.
const telemetry = await memoryTelemetry();

function toInput(c: ChildIdentity) {
  return { forename: c.forename, surname: c.surname, dob: c.dob, sex: c.sex ? SEX[c.sex] : undefined, nhsNumber: c.nhsNumber };
}

// Place names in the public reference data (e.g. "London Borough of Sutton") that are also
// synthetic surnames or forenames: as single words they prove nothing, as full names they do.
let publicWords = new Set<string>();

/** Every form in which a person's details could leak: names, dates in several formats, numbers. */
function needles(): { label: string; re: RegExp; binarySafe: boolean }[] {
  const out: { label: string; re: RegExp; binarySafe: boolean }[] = [];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const words = new Set<string>();
  for (const c of children) {
    out.push({ label: 'full name', re: new RegExp(`${esc(c.forename!)}[\\s,]+${esc(c.surname!)}`, 'i'), binarySafe: true });
    for (const w of [c.forename!, c.surname!]) if (w.length >= 4 && !publicWords.has(w.toLowerCase())) words.add(w.toLowerCase());
    if (c.dob) {
      const [y, m, d] = c.dob.split('-');
      out.push({ label: 'dob iso', re: new RegExp(c.dob), binarySafe: true });
      out.push({ label: 'dob uk', re: new RegExp(`${d}/${m}/${y}`), binarySafe: true });
      out.push({ label: 'dob compact', re: new RegExp(`(?<!\\d)(${d}${m}${y}|${y}${m}${d})(?!\\d)`), binarySafe: false });
    }
    if (c.nhsNumber)
      out.push({
        label: 'nhs',
        re: new RegExp(`${c.nhsNumber.slice(0, 3)}[ -]?${c.nhsNumber.slice(3, 6)}[ -]?${c.nhsNumber.slice(6)}`),
        binarySafe: true,
      });
  }
  // A lone name as a word: not inside a longer token such as a base64url key or signature.
  out.push({
    label: 'name',
    re: new RegExp(`(?<![A-Za-z0-9_-])(${[...words].map(esc).join('|')})(?![A-Za-z0-9_-])`, 'i'),
    binarySafe: true,
  });
  for (const p of phones) {
    const digits = p.replace(/\s/g, '').slice(1);
    out.push({ label: 'phone', re: new RegExp(`(0|\\+44)\\s?${digits.slice(0, 4)}\\s?${digits.slice(4)}`), binarySafe: true });
  }
  return out;
}

// Random ids (request ids, token ids) are UUIDs: a segment of one that happens to be all digits
// can read, by chance, as one of the 1,000 compact dates of birth. A UUID is never a person's
// detail, so the compact date is looked for outside them.
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function findLeaks(source: string, text: string, binary = false): string[] {
  const withoutIds = text.replace(UUID, '<uuid>');
  return needles()
    .filter((n) => (binary ? n.binarySafe : true) && n.re.test(n.label === 'dob compact' ? withoutIds : text))
    .map((n) => `${source}: ${n.label}`);
}

beforeAll(async () => {
  const logFile = inject('pgLogFile');
  logStart = logFile ? readFileSync(logFile, 'utf8').length : 0;
  const port = await freePort();
  fed = await createFederation(['WMP'], {
    linkageEnv: { MCX_LINKAGE_RATE_PER_SECOND: '100000', MCX_LINKAGE_BURST: '1000000' },
    endpoints: { WMP: `http://127.0.0.1:${port}` },
    capabilities: PEER_OPERATIONS.map((op) => op.name),
  });
  t = await startTestNode({ force: 'WMP', keys: fed.keys.WMP!, env: { ...fed.nodeEnv('WMP'), PORT: String(port) } });
  const ref = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
  dbOid = (await ref<{ oid: number }[]>`select oid::int from pg_database where datname = current_database()`)[0]!.oid;
  publicWords = new Set(
    (await ref<{ name: string }[]>`select name from ref_organisations`).flatMap((r) => r.name.toLowerCase().split(/[^a-z]+/)),
  );
  await ref.end();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < children.length; i = next++) {
        const res = (await t.client.request(
          PUBLISH_SUBJECT as never,
          { input: { subjectRef: `SUBJ-${i}`, reviewAt, identity: toInput(children[i]!) } } as never,
        )) as { publishSubject: { errors: unknown[] } };
        if (res.publishSubject.errors.length > 0) throw new Error(`subject ${i} refused: ${JSON.stringify(res.publishSubject.errors)}`);
      }
    }),
  );
  for (const phone of phones) {
    const r = await publishAssociate(
      t.client,
      associateInput({ identity: { forename: children[0]!.forename, surname: 'Associate', phone } } as never),
    );
    if (r.errors.length > 0) throw new Error('associate refused');
  }
  // A bad-input run: every answer is kept to be searched.
  for (const c of children.slice(0, 50)) {
    const bad = {
      ...toInput(c),
      nhsNumber: c.nhsNumber ? `${c.nhsNumber.slice(0, 9)}${(Number(c.nhsNumber[9]) + 1) % 10}` : '12345',
      dob: `${c.dob!.slice(0, 4)}-13-45`,
    };
    const res = await t.client.raw(PUBLISH_SUBJECT as never, { input: { subjectRef: 'SUBJ-BAD', reviewAt, identity: bad } } as never);
    badAnswers.push(JSON.stringify(res));
    const typed = await t.client.raw(
      PUBLISH_SUBJECT as never,
      { input: { subjectRef: 'SUBJ-BAD', reviewAt, identity: { ...toInput(c), sex: `${c.forename} ${c.surname}` } } } as never,
    );
    badAnswers.push(JSON.stringify(typed));
  }
  // Federated reads (the peer protocol, node tokens, traces) for some of the children.
  for (const c of children.slice(0, 30))
    federatedAnswers.push(JSON.stringify(await t.investigator.raw(ChildHistoryDocument, { identity: toInput(c) as never })));
}, 600_000);
afterAll(async () => {
  await t?.close();
  await fed?.close();
});

describe('no name, date of birth, NHS number or phone is kept or logged anywhere', () => {
  it('the linkage keys exist (the run did what it says)', async () => {
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const [row] = await sql<
      { subjects: number; keys: number }[]
    >`select (select count(*)::int from subjects) as subjects, (select count(*)::int from linkage_keys) as keys`;
    await sql.end();
    expect(row!.subjects).toBe(1000);
    expect(row!.keys).toBeGreaterThan(5000);
  });

  it('the search finds each kind of detail when it is there (it can fail)', () => {
    const c = children.find((x) => x.nhsNumber && x.dob && x.forename!.length >= 4 && !publicWords.has(x.forename!.toLowerCase()))!;
    const [y, m, d] = c.dob!.split('-');
    const planted = `x ${c.forename} ${c.surname} ${d}/${m}/${y} ${c.nhsNumber} ${phones[7]} x`;
    expect(findLeaks('planted', planted)).toEqual(
      expect.arrayContaining(['planted: full name', 'planted: dob uk', 'planted: nhs', 'planted: name', 'planted: phone']),
    );
    expect(new Set(findLeaks('planted', `x ${c.dob} x`))).toEqual(new Set(['planted: dob iso']));
    expect(findLeaks('planted', `x ${y}${m}${d} x`)).toEqual(['planted: dob compact']);
    expect(findLeaks('planted', `"requestId":"${y}${m}${d}-1a2b-4c3d-8e9f-0a1b2c3d4e5f"`)).toEqual([]);
    expect(findLeaks('clean', 'nothing personal here: SUBJ-1 WMP 2026')).toEqual([]);
  });

  it('a full dump of the node database holds none of it', async () => {
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const tables = await sql<
      { s: string; t: string }[]
    >`select table_schema as s, table_name as t from information_schema.tables where table_schema in ('public', 'drizzle') and table_type = 'BASE TABLE'`;
    let dump = '';
    for (const { s, t: table } of tables) {
      const rows = await sql.unsafe(`select x::text as row from "${s}"."${table}" x`);
      dump += rows.map((r) => r.row as string).join('\n');
    }
    await sql.end();
    expect(tables.length).toBeGreaterThan(8);
    expect(dump.length).toBeGreaterThan(100_000);
    expect(findLeaks('database', dump)).toEqual([]);
  });

  it("the node's logs, the linkage service's logs and the bad-input answers hold none of it", () => {
    expect(t.logs().length).toBeGreaterThan(10_000);
    expect(findLeaks('node log', t.logs())).toEqual([]);
    expect(findLeaks('linkage log', fed.linkageLogs())).toEqual([]);
    expect(badAnswers.filter((a) => a.includes('"errors"')).length).toBe(100);
    expect(findLeaks('bad-input answers', badAnswers.join('\n'))).toEqual([]);
  });

  it('the traces of federated reads, and their answers, hold none of it', () => {
    const spans = telemetry.finishedSpans();
    expect(spans.filter((s) => s.name === 'mcx.peer.call').length).toBeGreaterThanOrEqual(30);
    expect(federatedAnswers.filter((a) => a.includes('"childHistory"') && a.includes('"COMPLETE"')).length).toBe(30);
    expect(findLeaks('spans', JSON.stringify(spans))).toEqual([]);
    expect(findLeaks('federated answers', federatedAnswers.join('\n'))).toEqual([]);
  });

  it("the PostgreSQL server's statement log and the database's raw files hold none of it (embedded server)", (ctx) => {
    const logFile = inject('pgLogFile');
    const dataDir = inject('pgDataDir');
    if (!logFile || !dataDir) ctx.skip(); // another server (DATABASE_URL, container): its files are not ours to read
    const log = readFileSync(logFile, 'utf8');
    // What the server logged while this file ran (initdb's own words, like "english", came before).
    const ours = log.slice(logStart);
    expect(ours).toMatch(/statement: /);
    expect(findLeaks('postgres log', ours)).toEqual([]);
    // This database's own relations: heap, TOAST and index files. (System catalogs below OID
    // 16384, and the shared WAL, hold PostgreSQL's own words and other databases' catalogs; every
    // value this node ever sent the server is in the statement log checked above.)
    const files = readdirSync(path.join(dataDir, 'base', String(dbOid)))
      .filter((f) => Number(f.split(/[._]/)[0]) >= 16384)
      .map((f) => path.join(dataDir, 'base', String(dbOid), f));
    expect(files.length).toBeGreaterThan(10);
    const read = (f: string) => {
      try {
        return readFileSync(f).toString('latin1');
      } catch {
        return ''; // a live server removes temporary files while we walk
      }
    };
    const leaks = files.flatMap((f) => findLeaks(path.relative(dataDir, f), read(f), true));
    expect(leaks).toEqual([]);
  });
});
