import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const EN_GB = '/usr/lib/chromium/locales/en-GB.pak';
export const SCREENSHOTS = path.resolve('.test-results/console');

/** Debian's Chromium, headless, in British English: never a downloaded browser. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium; .ci/run does) to run the console's browser tests`,
    );
  }
  // Without it Chromium falls back to American English, and the screenshots show dates month first.
  if (!existsSync(EN_GB)) {
    throw new Error(`${EN_GB} is missing: install Debian's chromium-l10n package (apt-get install -y chromium-l10n; .ci/run does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    // A UK user's browser: a date input shows and takes dates day first. It follows the browser's
    // language (LANGUAGE, with Debian's chromium-l10n installed), not the page's or the context's.
    env: { ...process.env, LANGUAGE: 'en_GB' },
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * What the code passed to page.evaluate uses of the browser: this project type-checks for Node,
 * and adding the DOM library to it would change the types of Node's fetch and Headers elsewhere.
 */
export interface InBrowser {
  document: { activeElement: { matches(selector: string): boolean; textContent: string | null } | null };
  localStorage: Record<string, string>;
  sessionStorage: Record<string, string>;
  indexedDB: { databases(): Promise<{ name?: string }[]> };
  axe: { run(context: unknown, options: unknown): Promise<{ violations: any[] }> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
export const inBrowser = () => globalThis as unknown as InBrowser;

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2.x A and AA rules on the page as it is. Evaluated through the browser's
 * debugging protocol, which the page's CSP does not govern (an injected script tag would be refused).
 */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string | null; nodes: string[] }[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const g = globalThis as unknown as InBrowser;
    const result = await g.axe.run(g.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n: { target: string[] }) => n.target.join(' ')),
    }));
  });
}

/** Everything the browser keeps for the page's origin: both web storages and the IndexedDB database names. */
export async function browserStorage(page: Page): Promise<{ local: string; session: string; indexedDb: string[] }> {
  return page.evaluate(async () => {
    const g = globalThis as unknown as InBrowser;
    return {
      local: JSON.stringify({ ...g.localStorage }),
      session: JSON.stringify({ ...g.sessionStorage }),
      indexedDb: (await g.indexedDB.databases()).map((d) => d.name ?? ''),
    };
  });
}
