/**
 * `mcx import` (packages/cli/src/commands/import-run.ts over services/node/src/import/): a few
 * hundred synthetic lines, some bad, published through the node's own mutations on a real
 * database; refused lines reported by number and code only; a rerun stores nothing new; --resume
 * starts after the last finished batch.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateNodeKeys, openImporter, writeNodeKeys, type Importer } from '@mcx/node';

import { filesOf, runImport } from '../../packages/cli/src/commands/import-run.js';
import { allEntries } from '../testkit/audit.js';
import { episodeInput, localEpisodes } from '../testkit/episodes.js';
import { capturingLogger } from '../testkit/logs.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { locationInput } from '../testkit/records.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mcx-import-test-'));
let node: TestNode;
let importer: Importer;
/** Expected refusals: file, line, code. */
const bad: { file: string; line: number; code: string }[] = [];
const SECRET_REF = 'MIS-NEVER-IN-REPORT';

function writeLines(file: string, lines: string[]): void {
  writeFileSync(path.join(dir, file), lines.join('\n') + '\n');
}

beforeAll(async () => {
  const keysDir = path.join(dir, 'keys');
  writeNodeKeys(keysDir, generateNodeKeys());
  node = await startTestNode({ force: 'WMP', env: { MCX_KEYS_DIR: keysDir } });
  const episodes: string[] = [];
  for (let i = 1; i <= 250; i++)
    episodes.push(JSON.stringify(episodeInput({ subjectRef: `SUBJ-IMP-${i % 40}`, ownerReference: `MIS-IMP-${i}` })));
  const put = (lines: string[], file: string, line: number, text: string, code: string) => {
    lines[line - 1] = text;
    bad.push({ file, line, code });
  };
  put(episodes, 'episodes.jsonl', 7, '{"id": "not json', 'INVALID_JSON');
  // Not the input's shape (a required field missing): refused by the mutation's variables.
  const { reviewAt: _r, ...noReview } = episodeInput({ ownerReference: SECRET_REF });
  put(episodes, 'episodes.jsonl', 42, JSON.stringify({ ...noReview, status: 'NOT_A_STATUS' }), 'BAD_USER_INPUT');
  // Well formed, but refused by the node's validation (found before last seen).
  put(episodes, 'episodes.jsonl', 120, JSON.stringify(episodeInput({ ownerReference: SECRET_REF, version: 0 })), 'OUT_OF_RANGE');
  // The same id and version as line 1 with other content: a conflict, in a later batch.
  const first = JSON.parse(episodes[0]!) as { id: string };
  put(episodes, 'episodes.jsonl', 230, JSON.stringify(episodeInput({ id: first.id, ownerReference: SECRET_REF })), 'CONFLICT');
  writeLines('episodes.jsonl', episodes);
  const locations: string[] = [];
  for (let i = 1; i <= 60; i++) locations.push(JSON.stringify(locationInput({ ownerReference: `LOC-IMP-${i}` })));
  put(locations, 'locations-of-concern.jsonl', 13, JSON.stringify(locationInput({ ownerReference: SECRET_REF, concerns: [] })), 'REQUIRED');
  writeLines('locations-of-concern.jsonl', locations);
  importer = await openImporter({ config: node.config, logger: capturingLogger().logger, databaseUrl: node.config.databaseUrl! });
}, 60_000);

afterAll(async () => {
  await importer?.close();
  await node?.close();
});

const run = (resume: boolean) =>
  runImport({
    files: filesOf(dir),
    importer,
    progressFile: path.join(dir, 'progress.json'),
    reportFile: path.join(dir, 'report.json'),
    resume,
    batchSize: 100,
  });

describe('mcx import', () => {
  it('publishes every good line, and reports each bad one by line number and code only', async () => {
    const s = await run(false);
    expect(s.read).toBe(310);
    expect(s.refused).toBe(bad.length);
    expect(s.accepted).toBe(310 - bad.length);
    expect(s.storedAfter - s.storedBefore).toBe(310 - bad.length);
    const byLine = s.refusedLines
      .map((r) => ({ file: r.file, line: r.line, code: r.code }))
      .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
    const expected = [...bad].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
    expect(byLine.map(({ file, line }) => ({ file, line }))).toEqual(expected.map(({ file, line }) => ({ file, line })));
    for (const e of expected) expect(byLine.find((r) => r.file === e.file && r.line === e.line)?.code).toBe(e.code);
    const report = readFileSync(path.join(dir, 'report.json'), 'utf8');
    expect(report).not.toContain(SECRET_REF);
    expect(report).not.toContain('postcode');
    // Published as any publish is: readable, and audited by the import's publisher actor.
    const page = await localEpisodes(node.investigator, { first: 100 });
    expect(page.nodes.length).toBe(100);
    const writes = (await allEntries(await node.as({ roles: ['auditor'] }))).filter((e) => e.operation === 'publishEpisodes');
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(writes.every((e) => JSON.stringify(e.actor).includes('mcx-import'))).toBe(true);
  });

  it('run again: stores nothing new, and refuses the same lines', async () => {
    const s = await run(false);
    expect(s.storedAfter).toBe(s.storedBefore);
    expect(s.accepted).toBe(310 - bad.length);
    expect(s.refusedLines.map((r) => r.line).sort((a, b) => a - b)).toEqual(bad.map((b) => b.line).sort((a, b) => a - b));
  });

  it('--resume starts after the last finished batch', async () => {
    // As if stopped after two batches of episodes and before the locations of concern.
    writeFileSync(path.join(dir, 'progress.json'), JSON.stringify({ 'episodes.jsonl': 200 }));
    writeFileSync(path.join(dir, 'report.json'), JSON.stringify({ refused: [] }));
    const s = await run(true);
    expect(s.skipped).toBe(200);
    expect(s.read).toBe(110);
    expect(s.storedAfter).toBe(s.storedBefore);
    expect(s.refusedLines.map((r) => `${r.file}:${r.line}`).sort()).toEqual(['episodes.jsonl:230', 'locations-of-concern.jsonl:13']);
    const again = await run(true);
    expect(again.read).toBe(0);
    expect(again.skipped).toBe(310);
  });
});
