/**
 * The Alerts page in a real browser (Debian's Chromium) against three real nodes: an investigator
 * at WMP has it open, MPS publishes an open episode of the demo child (whom WMP holds), and the
 * alert appears without a reload, the count beside the link goes up and the polite live region
 * says so; acknowledging it shows who and when. Screenshots at 1280 px and 390 px go to
 * .test-results/console/.
 */
import { gql } from 'graphql-tag';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { axeViolations, launchBrowser, screenshot } from './browser.js';
import { startConsoleFederation, type ConsoleFederation } from './console-federation.js';

const INBOX = gql`
  query Inbox($first: Int) {
    alerts(first: $first) {
      nodes {
        id
      }
    }
  }
`;

let f: ConsoleFederation;
let browser: Browser;

beforeAll(async () => {
  [f, browser] = await Promise.all([startConsoleFederation({ MCX_ALERT_STREAM_HEARTBEAT_MS: '2000' }), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await f?.close();
});

async function newPage(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'en-GB' });
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`[browser] pageerror: ${e.message}\n`));
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

async function openAlerts(page: Page) {
  await page.goto(f.consoleUrl);
  await page.getByLabel('Role').selectOption('investigator');
  await page.getByRole('button', { name: 'Sign in for development' }).click();
  await page.getByLabel('Live search for a missing child').check();
  await page.getByLabel('Case reference').fill('WMP-26-1001');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page
    .getByRole('navigation', { name: 'Pages' })
    .getByRole('link', { name: /^Alerts/ })
    .click();
  await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
  await expect.poll(() => page.locator('[data-state]').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
}

const unacknowledged = async (page: Page) => Number(await page.locator('[data-unacknowledged]').getAttribute('data-unacknowledged'));

async function openEpisodeAtMps(ownerReference: string): Promise<void> {
  const input = episodeInput({
    subjectRef: 'MPS-SUBJ-7001',
    status: 'OPEN',
    foundAt: null,
    foundPlace: null,
    foundBy: null,
    ownerReference,
    assessment: { riskGrade: 'HIGH', indicators: [], regrades: [] },
  });
  expect((await publishEpisode(f.nodes.MPS.client, input)).errors).toEqual([]);
}

describe('the Alerts page', () => {
  it('shows a new alert without a reload, counts it and announces it; acknowledging it shows who and when', async () => {
    const page = await newPage(1280);
    await openAlerts(page);
    // The demo's own open episodes may already have alerted WMP: let them settle first.
    await page.waitForTimeout(3_000);
    const before = await unacknowledged(page);
    const cards = await page.locator('[data-alert]').count();
    expect(await page.locator('.mcx-alert', { hasText: 'MPS-MIS-9001' }).count()).toBe(0);
    // A marker in the page's memory: a reload would lose it.
    await page.evaluate(() => ((globalThis as unknown as { mcxMarker: number }).mcxMarker = 1));
    await expectAccessible(page, 'alerts-1-open');

    await openEpisodeAtMps('MPS-MIS-9001');
    const card = page.locator('.mcx-alert', { hasText: 'MPS-MIS-9001' }).filter({ hasText: 'Missing now elsewhere' });
    await card.waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { mcxMarker?: number }).mcxMarker)).toBe(1);
    // MPS may have alerted a threshold crossing too: every new card is counted, and marked new.
    await page.waitForTimeout(2_000);
    const added = (await page.locator('[data-alert]').count()) - cards;
    expect(added).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.mcx-alert', { hasText: 'MPS-MIS-9001' }).count()).toBe(added);
    expect(await page.locator('.mcx-alert .govuk-tag--blue').count()).toBe(added);
    // Newest first.
    expect(await page.locator('[data-alert]').first().innerText()).toContain('MPS-MIS-9001');
    const text = await card.innerText();
    expect(text).toContain('A child we hold is missing now at Metropolitan Police Service');
    expect(text).toContain('Metropolitan Police Service (MPS)');
    expect(text).toContain('+44 100 000 0000');
    expect(text).toContain('High');
    expect(text).toContain('New');
    expect(await unacknowledged(page)).toBe(before + added);
    expect(await page.getByTestId('alert-announcement').textContent()).toMatch(/^New alert: A child .+ Metropolitan Police Service\)?\.$/);
    expect(await page.getByTestId('alert-announcement').getAttribute('aria-live')).toBe('polite');
    // Nothing about the child but pointers: no name, no date of birth.
    const main = await page.locator('main').innerText();
    for (const n of ['Ellie', 'Marsh', '2011-05-14', '14 May 2011']) expect(main).not.toContain(n);
    await expectAccessible(page, 'alerts-2-new-alert-1280');

    await card.getByRole('button', { name: 'Acknowledge this alert' }).click();
    await expect
      .poll(() => card.innerText(), { timeout: 5_000 })
      // The node names the reader's own acknowledgement "you", never by their subject id.
      .toMatch(/By you on \d{1,2} \w{3} \d{4}, \d{2}:\d{2}/);
    expect(await card.getByRole('button', { name: 'Acknowledge this alert' }).count()).toBe(0);
    expect(await unacknowledged(page)).toBe(before + added - 1);
    await expectAccessible(page, 'alerts-3-acknowledged-1280');

    await page.setViewportSize({ width: 390, height: 844 });
    await expectAccessible(page, 'alerts-4-narrow-390');
    await page.context().close();
  });

  it('reads the same inbox after a reload, with the acknowledgement kept', async () => {
    const page = await newPage(390);
    await openAlerts(page);
    const card = page.locator('.mcx-alert', { hasText: 'MPS-MIS-9001' }).filter({ hasText: 'Missing now elsewhere' });
    await card.waitFor({ timeout: 10_000 });
    expect(await card.innerText()).toContain('By you on');
    expect(await card.innerText()).not.toContain('console-investigator-wmp');
    expect(await card.innerText()).not.toContain('New');
    await page.context().close();
  });

  it('reconnects after the connection drops, with the last event number: the alert sent meanwhile arrives, none twice', async () => {
    const page = await newPage(1280);
    await openAlerts(page);
    await page.waitForTimeout(1_000);
    // The browser goes offline and the node drops every connection it holds, the stream's too.
    await page.context().setOffline(true);
    f.nodes.WMP.node.server.server.closeAllConnections();
    await expect.poll(() => page.locator('[data-state]').getAttribute('data-state'), { timeout: 10_000 }).toBe('reconnecting');
    await screenshot(page, 'alerts-5-reconnecting');
    await openEpisodeAtMps('MPS-MIS-9002');
    await page.waitForTimeout(1_500);
    await page.context().setOffline(false);
    await page.locator('.mcx-alert', { hasText: 'MPS-MIS-9002' }).first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('[data-state]').getAttribute('data-state'), { timeout: 5_000 }).toBe('live');
    await page.waitForTimeout(1_500);
    const ids = await page.locator('[data-alert]').evaluateAll((els) => els.map((e) => e.getAttribute('data-alert')));
    expect(new Set(ids).size).toBe(ids.length);
    const inbox = (await f.nodes.WMP.investigator.request(INBOX, { first: 200 })) as { alerts: { nodes: { id: string }[] } };
    expect([...ids].sort()).toEqual(inbox.alerts.nodes.map((n) => n.id).sort());
    await page.context().close();
  });
});
