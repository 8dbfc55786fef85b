/**
 * The auditor's and operator's console in a real browser (Debian's Chromium) against three real
 * nodes and the linkage service: an investigator at GMP reads the demo child's history, and the
 * auditor at WMP (an owner of the child's records) finds that read under "who has seen this
 * child?", in the log and under disclosures; a read at night (the nodes' shared clock moved)
 * shows in the fishing alerts; a row changed in the database turns the integrity page red and the
 * export downloaded from it fails `mcx audit verify`; a stopped member's breaker opens on the node
 * status page. Screenshots of each page go to .test-results/console/.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseReceiptsFile } from '@mcx/audit';
import { ConsoleChildHistoryDocument } from '@mcx/client';
import { keyResolverFromKeys, toPublicKey, verifyReceiptsSeal } from '@mcx/signing';

import { DEMO_CHILD } from '../../packages/cli/src/demo/demo-child.js';
import { runAuditVerify } from '../testkit/audit.js';
import { axeViolations, browserStorage, launchBrowser, screenshot, type InBrowser } from './browser.js';
import { startConsoleFederation, type ConsoleFederation, type Force } from './console-federation.js';

/** The page's width as laid out (in the browser): wider than the window means it scrolls sideways. */
const pageWidth = () =>
  (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth;
const READ_CASE = 'GMP-26-0777';
const NIGHT_CASE = 'MPS-26-0230';
const NIGHT_READER = 'night-reader';

let f: ConsoleFederation;
let browser: Browser;

beforeAll(async () => {
  [f, browser] = await Promise.all([
    // Two failed calls open a member's breaker; MPS's console signs out after 5 idle seconds.
    startConsoleFederation({ MCX_PEER_BREAKER_FAILURES: '2' }, { MPS: { MCX_CONSOLE_IDLE_SECONDS: '5' } }),
    launchBrowser(),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await f?.close();
});

const consoleOf = (force: Force) => `${f.nodes[force].node.url}/console/`;

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`[browser] pageerror: ${e.message}\n`));
  // No request may leave for another origin than the node's.
  page.on('request', (r) => {
    if (!r.url().startsWith('http://127.0.0.1:') && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
      throw new Error(`third-party request ${r.url()}`);
  });
  return page;
}

async function expectAccessible(page: Page, name: string) {
  await screenshot(page, name);
  expect(await axeViolations(page), name).toEqual([]);
}

async function signIn(page: Page, url: string, role: string, force: Force) {
  await page.goto(url);
  await page.getByLabel('Role').selectOption(role);
  await page.getByLabel('Force').selectOption(force);
  await page.getByRole('button', { name: 'Sign in for development' }).click();
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name }).click();

/** The next 02:30 in London, as an offset from now for the nodes' clock. */
function offsetToNight(): number {
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: 'numeric', hourCycle: 'h23' });
  const start = Math.ceil(Date.now() / 900_000) * 900_000;
  for (let t = start; t < start + 2 * 86_400_000; t += 900_000) if (Number(hour.format(t)) === 2) return t + 30 * 60_000 - Date.now();
  throw new Error('no 02:00 hour in London in two days');
}

describe("the auditor's and operator's console", () => {
  let seenSeq = 0;

  it("an investigator at GMP reads the child's history; someone at MPS reads it at night", async () => {
    const page = await newPage();
    await signIn(page, consoleOf('GMP'), 'investigator', 'GMP');
    await page.getByLabel('Live search for a missing child').check();
    await page.getByLabel('Case reference').fill(READ_CASE);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('First name').fill(DEMO_CHILD.forename);
    await page.getByLabel('Last name').fill(DEMO_CHILD.surname);
    const [y, m, d] = DEMO_CHILD.dob.split('-');
    await page.getByLabel('Day').fill(d!);
    await page.getByLabel('Month').fill(m!);
    await page.getByLabel('Year').fill(y!);
    await page.getByLabel('Female').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: "Child's history" }).waitFor({ timeout: 20_000 });
    await page.context().close();

    // The same read through the API at MPS, with every node's clock at 02:30 London time.
    const night = await f.nodes.MPS.as({
      roles: ['investigator'],
      subject: NIGHT_READER,
      headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': NIGHT_CASE },
    });
    f.clock.offsetMs = offsetToNight();
    try {
      const { childHistory } = await night.request(ConsoleChildHistoryDocument, { identity: DEMO_CHILD });
      expect(childHistory.federation.completeness).toBe('COMPLETE');
    } finally {
      f.clock.offsetMs = 0;
    }
  });

  it("an investigator cannot open the auditor's pages: the node refuses, and the console says so", async () => {
    const page = await newPage();
    await page.goto(`${consoleOf('WMP')}audit/log`);
    await page.getByLabel('Role').selectOption('investigator');
    await page.getByRole('button', { name: 'Sign in for development' }).click();
    const refusal = page.getByRole('alert');
    await expect.poll(() => refusal.innerText(), { timeout: 10_000 }).toContain('You cannot open this page');
    expect(await refusal.innerText()).toMatch(/Your role \(investigator\) may not see this\. The node refused the request/);
    expect(await page.locator('.mcx-entries').count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Pages' }).count()).toBe(0);
    await expectAccessible(page, 'a1-investigator-refused');
    await page.context().close();
  });

  it('the auditor at WMP finds the read under "who has seen this child?", with force, purpose and case reference, and no record content', async () => {
    const page = await newPage();
    await signIn(page, consoleOf('WMP'), 'auditor', 'WMP');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    expect(await page.locator('.mcx-header__user').innerText()).toContain('auditor, WMP');
    await nav(page, 'Who has seen this child?');
    expect(new URL(page.url()).pathname).toBe('/console/audit/who-has-seen');
    await page.getByLabel('First name').fill(DEMO_CHILD.forename);
    await page.getByLabel('Last name').fill(DEMO_CHILD.surname);
    const [y, m, d] = DEMO_CHILD.dob.split('-');
    await page.getByLabel('Day').fill(d!);
    await page.getByLabel('Month').fill(m!);
    await page.getByLabel('Year').fill(y!);
    await page.getByLabel('Sex').selectOption('FEMALE');
    await page.getByRole('button', { name: 'Find who has seen this child' }).click();
    const seen = page.locator('.mcx-seen');
    await expect.poll(() => seen.innerText(), { timeout: 20_000 }).toMatch(/reads? of \d+ records? held here/);
    const rows = await seen.locator('tbody tr').allInnerTexts();
    const gmp = rows.find((r) => r.includes(READ_CASE));
    expect(gmp, rows.join('\n')).toBeDefined();
    expect(gmp).toContain('Greater Manchester Police node');
    expect(gmp).toContain('Live search for a missing child');
    expect(gmp).toContain('console-investigator-gmp');
    seenSeq = Number(/^\s*(?:Open entry )?(\d+)/.exec(gmp!)![1]);
    // The night read by MPS is there too.
    expect(rows.some((r) => r.includes(NIGHT_CASE) && r.includes('Metropolitan Police Service node'))).toBe(true);
    // An auditor sees who read, never what: no owner reference, place or name of the child in the answer.
    const text = await seen.innerText();
    for (const value of [DEMO_CHILD.forename, DEMO_CHILD.surname, 'WMP-MIS-DEMO-1', 'B5 4BU', 'Crane']) expect(text).not.toContain(value);
    await expectAccessible(page, 'a2-who-has-seen');
    await page.context().close();
  });

  it('the audit log filters by requesting node on the server, and an entry shows its place in the chain and its checkpoint', async () => {
    const page = await newPage();
    await signIn(page, consoleOf('WMP'), 'auditor', 'WMP');
    await nav(page, 'Integrity');
    await page.getByRole('button', { name: 'Sign a checkpoint now' }).click();
    await expect
      .poll(async () => (await page.getByRole('status').allInnerTexts()).join('\n'))
      .toMatch(/checkpoint of the first \d+ entries was signed/);
    await nav(page, 'Audit log');
    await page.getByLabel('Requesting node (force code)').fill('GMP');
    await page.getByLabel('Case reference').fill(READ_CASE);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const table = page.locator('.mcx-entries');
    // The unfiltered page shown before is replaced, never mixed in: every row shown after the filter is GMP's read.
    const filtered = async () => {
      const rows = await table.locator('tbody tr').allInnerTexts();
      return rows.length > 0 && rows.every((row) => row.includes('Greater Manchester Police node') && row.includes(READ_CASE));
    };
    await expect.poll(filtered, { timeout: 10_000 }).toBe(true);
    await expectAccessible(page, 'a3-audit-log');
    // At 200% zoom on a small laptop, or a phone: the filters and the entries reflow, nothing cut off.
    await page.setViewportSize({ width: 390, height: 844 });
    await expectAccessible(page, 'a3b-audit-log-390');
    expect(await page.evaluate(pageWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('button', { name: `Open entry ${seenSeq}` }).click();
    const detail = page.getByRole('region', { name: `Entry ${seenSeq}` });
    const text = await detail.innerText();
    expect(text).toMatch(new RegExp(`Position in the chain\\s+Entry ${seenSeq} of \\d+`));
    expect(text).toMatch(/Signed checkpoint\s+Covered: the checkpoint of the first \d+ entries/);
    expect(text).toContain('GMP');
    // The subject's issuer at the asking force (its development issuer here), carried in GMP's node token.
    expect(text).toMatch(/Signed in through\s+mcx-dev-issuer/);
    expect(text).toMatch(/Hash\s+[0-9a-f]{64}/);
    await expectAccessible(page, 'a4-audit-entry');
    await page.context().close();
  });

  it('disclosures of our records show the read by force and purpose, in a chart and its table', async () => {
    const page = await newPage();
    await signIn(page, consoleOf('WMP'), 'auditor', 'WMP');
    await nav(page, 'Disclosures of our records');
    const table = page.locator('.mcx-disclosures');
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const rows = await table.locator('tbody tr').allInnerTexts();
    expect(rows.some((r) => r.includes('Greater Manchester Police (GMP)') && r.includes('Live search for a missing child'))).toBe(true);
    expect(await page.locator('svg.mcx-chart__svg rect[data-force=GMP]').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'a5-disclosures');
    await page.context().close();
  });

  it('the night read shows in the fishing alerts, with its entries and in the heatmap', async () => {
    const page = await newPage();
    await signIn(page, consoleOf('WMP'), 'auditor', 'WMP');
    await nav(page, 'Fishing alerts');
    const alerts = page.locator('.mcx-alerts');
    await expect.poll(() => alerts.innerText(), { timeout: 10_000 }).toContain(NIGHT_READER);
    const row = alerts.locator('tbody tr', { hasText: NIGHT_READER }).filter({ hasText: 'out of hours' });
    expect(await row.innerText()).toContain('Metropolitan Police Service');
    // Another force's reader is who that force's node says: the row names the node, and counts apart from any other node's.
    expect(await row.innerText()).toContain('as stated by the Metropolitan Police Service node');
    await row.getByRole('button').click();
    const drill = page.getByRole('region', { name: /out of hours/ });
    await expect.poll(() => drill.locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await drill.innerText()).toContain(NIGHT_CASE);
    const at02 = await page.locator('.mcx-heatmap td[data-hour="2"]').allInnerTexts();
    expect(at02.map(Number).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    await expectAccessible(page, 'a6-fishing');
    await page.context().close();
  });

  it('works by keyboard alone: sign in as auditor and ask who has seen the child', async () => {
    const page = await newPage();
    await page.goto(consoleOf('WMP'));
    await page.getByRole('heading', { name: 'Sign in to the MCX console' }).waitFor();
    const active = (s: string) =>
      page.evaluate((sel) => (globalThis as unknown as InBrowser).document.activeElement?.matches(sel) ?? false, s);
    const tabTo = async (selector: string, key = 'Tab') => {
      for (let i = 0; i < 40; i++) {
        if (await active(selector)) return;
        await page.keyboard.press(key);
      }
      throw new Error(`Tab never reached ${selector}`);
    };
    await tabTo('#dev-role');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#dev-role').inputValue()).toBe('auditor');
    await tabTo('button[type=submit]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    // The page's heading has the focus; the pages' links are above it.
    await tabTo('a[href="/console/audit/who-has-seen"]', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Who has seen this child?' }).waitFor();
    await tabTo('#who-forename');
    await page.keyboard.type(DEMO_CHILD.forename);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_CHILD.surname);
    const [y, m, d] = DEMO_CHILD.dob.split('-');
    for (const v of [d, m, y]) {
      await page.keyboard.press('Tab');
      await page.keyboard.type(v!);
    }
    await tabTo('#who-sex');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#who-sex').inputValue()).toBe('FEMALE');
    await tabTo('form[aria-label="The child\'s identity"] button[type=submit]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.mcx-seen').innerText(), { timeout: 20_000 }).toContain(READ_CASE);
    await page.context().close();
  });

  it('a row changed in the database turns the integrity page red, and the export from the page fails mcx audit verify the same way', async () => {
    const page = await newPage();
    await signIn(page, consoleOf('WMP'), 'auditor', 'WMP');
    await nav(page, 'Integrity');
    const panel = page.locator('.mcx-integrity');
    await expect.poll(() => panel.getAttribute('class')).toMatch(/mcx-integrity--(ok|unverified)/);
    await expect.poll(() => page.locator('main').innerText()).toMatch(/Last signed checkpoint\s+The first \d+ of \d+ entries, signed/);
    const main = await page.locator('main').innerText();
    expect(main).toContain('mcx audit verify audit-WMP.jsonl --public-key audit-WMP.pub.pem');
    expect(main).toContain('mcx audit verify audit-WMP.jsonl --public-key audit-WMP.pub.pem --previous audit-WMP-last-kept.jsonl');
    // The receipts WMP holds from each force that answered it, for that force's auditors, and the commands both sides run.
    await page.getByRole('heading', { name: "Check each other's logs" }).waitFor();
    const receiptButtons = page.getByRole('button', { name: /^Download the receipts from / });
    expect(await receiptButtons.count()).toBeGreaterThan(0);
    const [receipts] = await Promise.all([page.waitForEvent('download'), receiptButtons.first().click()]);
    const [, peer] = /^receipts-([A-Z]+)-held-by-WMP\.jsonl$/.exec(receipts.suggestedFilename()) ?? [];
    expect(peer).toMatch(/^[A-Z]+$/);
    expect(peer).not.toBe('WMP');
    const receiptsDir = mkdtempSync(path.join(tmpdir(), 'mcx-console-receipts-'));
    await receipts.saveAs(path.join(receiptsDir, 'receipts.jsonl'));
    const held = parseReceiptsFile(readFileSync(path.join(receiptsDir, 'receipts.jsonl'), 'utf8'));
    expect(held.header).toMatchObject({ holder: 'WMP', from: peer });
    expect(held.receipts.length).toBeGreaterThan(0);
    // Sealed by WMP: the seal verifies with WMP's audit key and states this very file.
    const { seal } = verifyReceiptsSeal(held.seal, keyResolverFromKeys([toPublicKey(f.fed.keys.WMP!.auditCheckpoint)]));
    expect(seal).toEqual({
      holder: 'WMP',
      from: peer,
      exportedAt: held.header.exportedAt,
      receipts: held.receipts.length,
      digest: held.digest,
    });
    await expect
      .poll(async () => (await page.getByRole('status').allInnerTexts()).join('\n'))
      .toContain(`were downloaded as receipts-${peer}-held-by-WMP.jsonl`);
    const withReceipts = await page.locator('main').innerText();
    expect(withReceipts).toContain(`--receipts receipts-${peer}-held-by-WMP.jsonl --holder-key WMP=audit-WMP.pub.pem`);
    expect(withReceipts).toMatch(
      /mcx audit verify audit-WMP\.jsonl --public-key audit-WMP\.pub\.pem --receipts receipts-WMP-held-by-([A-Z]+)\.jsonl --holder-key \1=audit-\1\.pub\.pem/,
    );
    await expectAccessible(page, 'a7-integrity-ok');
    // The receipts table fits at 1280 px: no hint. On a phone, or at 200% zoom: the commands wrap, and
    // the witnesses' table scrolls in its own region, which a hint above it says.
    const hint = page.getByText('Scroll sideways to see every column.');
    await expect.poll(() => hint.count()).toBe(0);
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => hint.count()).toBe(1);
    await expectAccessible(page, 'a7b-integrity-390');
    expect(await page.evaluate(pageWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });
    await expect.poll(() => hint.count()).toBe(0);

    const admin = postgres(f.nodes.WMP.databaseUrl, { max: 1, onnotice: () => {} });
    await admin`update audit_entries set entry = jsonb_set(entry, '{outcome}', '"refused"') where seq = ${seenSeq}`;
    await admin.end();
    await page.getByRole('button', { name: 'Verify now' }).click();
    await expect.poll(() => panel.getAttribute('class')).toContain('mcx-integrity--failed');
    expect(await panel.innerText()).toContain(`First bad entry: ${seenSeq}`);
    await expectAccessible(page, 'a8-integrity-broken');

    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-console-export-'));
    const [exported] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the export (JSON Lines)' }).click(),
    ]);
    expect(exported.suggestedFilename()).toBe('audit-WMP.jsonl');
    await exported.saveAs(path.join(dir, 'audit-WMP.jsonl'));
    const [key] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the public key' }).click()]);
    await key.saveAs(path.join(dir, 'audit-WMP.pub.pem'));
    expect(readFileSync(path.join(dir, 'audit-WMP.pub.pem'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    const cli = await runAuditVerify([path.join(dir, 'audit-WMP.jsonl'), '--public-key', path.join(dir, 'audit-WMP.pub.pem')]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`FAILED at seq ${seenSeq}`);
    writeFileSync(path.join(dir, 'verify.txt'), cli.stdout);
    await page.context().close();
  });

  it('signs out an idle session, leaving nothing in the browser', async () => {
    const page = await newPage();
    await signIn(page, consoleOf('MPS'), 'auditor', 'MPS');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    // MPS's console is configured to sign out after 5 idle seconds.
    await page.getByRole('heading', { name: 'Signed out' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('main').innerText()).toContain('You were signed out because the console was idle');
    expect(await browserStorage(page)).toEqual({ local: '{}', session: '{}', indexedDb: [] });
    await page.context().close();
  });

  it("a stopped member shows its breaker opening on the operator's node status page", async () => {
    const page = await newPage();
    await signIn(page, consoleOf('WMP'), 'operator', 'WMP');
    await page.getByRole('heading', { name: 'Node status' }).waitFor();
    const mps = page.locator('tr[data-member=MPS]');
    await expect.poll(() => mps.innerText(), { timeout: 10_000 }).toContain('Closed');
    expect(await page.locator('main').innerText()).toMatch(/Trust manifest\s+Version \d+, valid; expires .+ left\)/);
    expect(await page.locator('main').innerText()).toMatch(/Database migrations\s+(\d+) of \1 applied \(current\)/);
    await expectAccessible(page, 'a9-node-status');

    await f.nodes.MPS.close();
    const reader = await f.nodes.WMP.as({
      roles: ['investigator'],
      headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'WMP-26-1009' },
    });
    for (let i = 0; i < 2; i++) await reader.request(ConsoleChildHistoryDocument, { identity: DEMO_CHILD });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => mps.innerText()).toContain('Open (calls paused)');
    // Each history asks several questions of each member: the refused connections are counted, then the calls the breaker paused.
    expect(await mps.innerText()).toMatch(/Unavailable: [1-9]\d*, Circuit open: [1-9]/);
    expect(await page.locator('tr[data-member=GMP]').innerText()).toContain('Closed');
    await expectAccessible(page, 'a10-node-status-breaker-open');
    await page.context().close();
  });
});
