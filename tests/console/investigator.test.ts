/**
 * The investigator's console in a real browser (Debian's Chromium) against three real nodes and
 * the linkage service: sign in, purpose and case reference, search the demo child, read the
 * history, ask for an associate's name, lose a node, sign out. Screenshots of each page go to
 * .test-results/console/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_CHILD } from '../../packages/cli/src/demo/demo-child.js';
import { axeViolations, browserStorage, launchBrowser, screenshot, type InBrowser } from './browser.js';
import { startConsoleFederation, type ConsoleFederation } from './console-federation.js';

let f: ConsoleFederation;
let browser: Browser;

beforeAll(async () => {
  [f, browser] = await Promise.all([startConsoleFederation(), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await f?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  const page = await context.newPage();
  page.on('console', (m) => process.stderr.write(`[browser] ${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (e) => process.stderr.write(`[browser] pageerror: ${e.message}\n`));
  page.on('requestfailed', (r) => process.stderr.write(`[browser] requestfailed: ${r.url()} ${r.failure()?.errorText}\n`));
  // No request may leave for another origin: the console works on a network with no internet.
  page.on('request', (r) => {
    if (!r.url().startsWith(new URL(f.consoleUrl).origin) && !r.url().startsWith('data:'))
      throw new Error(`third-party request ${r.url()}`);
  });
  return page;
}

async function expectAccessible(page: Page, name: string) {
  await screenshot(page, name);
  expect(await axeViolations(page), name).toEqual([]);
}

async function signInAndStartCase(page: Page, caseRef = 'WMP-26-1001') {
  await page.goto(f.consoleUrl);
  await page.getByLabel('Role').selectOption('investigator');
  await page.getByRole('button', { name: 'Sign in for development' }).click();
  await page.getByLabel('Live search for a missing child').check();
  await page.getByLabel('Case reference').fill(caseRef);
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function searchDemoChild(page: Page) {
  await page.getByLabel('First name').fill(DEMO_CHILD.forename);
  await page.getByLabel('Last name').fill(DEMO_CHILD.surname);
  const [y, m, d] = DEMO_CHILD.dob.split('-');
  await page.getByLabel('Day').fill(d!);
  await page.getByLabel('Month').fill(m!);
  await page.getByLabel('Year').fill(y!);
  await page.getByLabel('Female').check();
  await page.getByRole('button', { name: 'Search' }).click();
  await page
    .getByRole('heading', { name: "Child's history" })
    .waitFor({ timeout: 20_000 })
    .catch(async (err: unknown) => {
      await screenshot(page, 'failed-search');
      throw new Error(`no history page; the page says: ${await page.locator('main').innerText()}`, { cause: err });
    });
}

describe('the investigator console', () => {
  it('is served from the node with a strict policy, and deep links reach the app', async () => {
    const res = await fetch(f.consoleUrl);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"])
      expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe-inline|https?:\/\//);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(new URL(asset, f.consoleUrl));
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${f.consoleUrl}history/anything`)).headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${f.consoleUrl}assets/missing.js`)).status).toBe(404);
  });

  it('refuses a case reference that looks like a name, beside its field', async () => {
    const page = await newPage();
    await page.goto(f.consoleUrl);
    await expectAccessible(page, '1-sign-in');
    await page.getByRole('button', { name: 'Sign in for development' }).click();
    await page.getByLabel('Live search for a missing child').check();
    await page.getByLabel('Case reference').fill('Ellie Marsh');
    await page.getByRole('button', { name: 'Continue' }).click();
    const error = page.locator('#case-ref-error');
    await expect.poll(() => error.textContent()).toContain("Enter the case reference in your force's format");
    expect(await page.getByLabel('Case reference').getAttribute('aria-describedby')).toContain('case-ref-error');
    await expectAccessible(page, '2-case-reference-refused');
    await page.context().close();
  });

  it('searches the demo child and shows the history, section by section', async () => {
    const page = await newPage();
    await signInAndStartCase(page);
    await expectAccessible(page, '3-search');
    // An NHS number with a wrong check digit: the node's code, in words, beside the field.
    await page.getByLabel('First name').fill(DEMO_CHILD.forename);
    await page.getByLabel('Date of birth not known').check();
    await page.locator('#number').fill('9434765918');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('#number-error').textContent()).toContain('Enter an NHS number of 10 digits');
    await screenshot(page, '3b-search-field-error');
    await page.locator('#number').fill('');
    await page.getByLabel('Date of birth not known').uncheck();
    await searchDemoChild(page);
    const text = (sel: string) => page.locator(sel).innerText();

    // Every page shows the session's case.
    expect(await text('.mcx-case')).toContain('WMP-26-1001');
    // Missing now: GMP's open episode, its reference, its 24/7 contact as a tel: link, and the caution.
    const open = page.getByRole('region', { name: 'Open episode at Greater Manchester Police' });
    expect(await open.innerText()).toContain('GMP-MIS-DEMO-1');
    expect(await open.getByRole('link').getAttribute('href')).toBe('tel:+441000000000');
    expect(await open.innerText()).toContain('Confirm with the owner before acting');
    expect(await text('.mcx-complete')).toContain('Complete: every force answered');
    // Risk summary: three episodes in 90 days crosses the threshold of 3.
    expect(await text('section[aria-labelledby=risk]')).toMatch(/Crossed \(3 episodes\)/);
    // Timeline: newest first, each with its source.
    const items = await page.locator('.mcx-timeline__item').allInnerTexts();
    expect(items.map((t) => /(GMP|WMP|MPS)-MIS-DEMO-\d/.exec(t)?.[0])).toEqual([
      'GMP-MIS-DEMO-1',
      'WMP-MIS-DEMO-1',
      'WMP-MIS-DEMO-2',
      'MPS-MIS-DEMO-1',
    ]);
    expect(items[1]).toContain('B5 4BU');
    // The demo's other girl at GMP (same surname, date of birth and sex; another forename) matches only in part.
    const possible = await text('section[aria-labelledby=possible]');
    expect(possible).toContain('Greater Manchester Police, GMP-MIS-DEMO-2');
    expect(possible).toContain('These may be another child');
    // MPS's restricted episode of the child is withheld, and counted.
    const withheld = page.locator('section[aria-labelledby=completeness] table tbody tr');
    expect(await withheld.allInnerTexts()).toEqual([expect.stringMatching(/^Metropolitan Police Service\s+1\s+0\s+0$/)]);
    // The map and its table: the Birmingham address found twice, London once, and the location of concern near it.
    expect(await page.locator('.mcx-map__destination').count()).toBe(2);
    expect(await page.locator('.mcx-map__concern').count()).toBe(1);
    const tables = await text('.mcx-map-tables');
    expect(tables).toContain('B5 4BU');
    expect(tables).toContain('NW1 2DN');
    expect(tables).toContain('WMP-LOC-DEMO-1');
    // The associate pointer, with the other child MPS links to the same man.
    const associates = await text('section[aria-labelledby=associates]');
    expect(associates).toContain('Adult of concern held by West Midlands Police, reference WMP-ASC-DEMO-1');
    expect(associates).toMatch(/1 child, at Metropolitan Police Service/);
    await expectAccessible(page, '4-history');
    await page.emulateMedia({ media: 'print' });
    await screenshot(page, '5-history-print');
    expect(await page.locator('.mcx-marking').first().isVisible()).toBe(true);
    expect(await page.locator('.mcx-header').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'screen' });

    // The audited request for the associate's name, through WMP's records system (the stand-in).
    const before = f.records.calls;
    await page.getByRole('button', { name: 'Request name from owner' }).click();
    expect(await page.getByRole('alertdialog').innerText()).toContain('This request is audited');
    await screenshot(page, '6-associate-confirm');
    await page.getByRole('button', { name: 'Yes, request the name' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('recorded in the audit log');
    expect(f.records.calls).toBe(before + 1);
    await expectAccessible(page, '7-associate-named');

    // Signing out leaves nothing of the child in the browser.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    const storage = await browserStorage(page);
    expect(storage).toEqual({ local: '{}', session: '{}', indexedDb: [] });
    const html = await page.content();
    for (const value of [DEMO_CHILD.forename, DEMO_CHILD.surname, 'Crane', 'GMP-MIS-DEMO-1', 'WMP-26-1001'])
      expect(html).not.toContain(value);
    expect(await page.evaluate(() => performance.getEntriesByType('resource').length)).toBeGreaterThan(0);
    await screenshot(page, '8-signed-out');
    await page.context().close();
  });

  it('runs the whole search by keyboard alone', async () => {
    const page = await newPage();
    await page.goto(f.consoleUrl);
    await page.getByRole('heading', { name: 'Sign in to the MCX console' }).waitFor();
    const tabTo = async (selector: string, key = 'Tab') => {
      for (let i = 0; i < 40; i++) {
        if (await page.evaluate((s) => (globalThis as unknown as InBrowser).document.activeElement?.matches(s) ?? false, selector)) return;
        await page.keyboard.press(key);
      }
      throw new Error(`Tab never reached ${selector}`);
    };
    await tabTo('button[type=submit]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Why are you searching?' }).waitFor();
    await tabTo('input[name=purpose]');
    await page.keyboard.press('Space');
    await tabTo('#case-ref');
    await page.keyboard.type('WMP-26-1002');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Search by identity' }).waitFor();
    await tabTo('#forename');
    await page.keyboard.type(DEMO_CHILD.forename);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_CHILD.surname);
    const [y, m, d] = DEMO_CHILD.dob.split('-');
    for (const [id, v] of [
      ['#dob-day', d],
      ['#dob-month', m],
      ['#dob-year', y],
    ] as const) {
      await tabTo(id);
      await page.keyboard.type(v!);
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: "Child's history" }).waitFor({ timeout: 20_000 });
    expect(await page.locator('section[aria-labelledby=missing-now]').innerText()).toContain('GMP-MIS-DEMO-1');
    await tabTo('.mcx-header__signout', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await page.context().close();
  });

  it('says PARTIAL, naming the force that did not answer, when a node is down', async () => {
    await f.nodes.MPS.close();
    const page = await newPage();
    await signInAndStartCase(page, 'WMP-26-1003');
    await searchDemoChild(page);
    const banner = page.locator('.mcx-partial');
    expect(await banner.innerText()).toContain('PARTIAL');
    expect(await banner.innerText()).toMatch(/Metropolitan Police Service: did not answer/);
    expect(await page.locator('section[aria-labelledby=missing-now]').innerText()).toContain('GMP-MIS-DEMO-1');
    await expectAccessible(page, '9-history-partial');
    await page.context().close();
  });
});
