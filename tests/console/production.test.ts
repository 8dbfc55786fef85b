/**
 * The console of a production node: no development sign-in (neither the button nor the
 * endpoint), OpenID Connect with PKCE against the issuer the node trusts, and a clear 503 where
 * the console has not been built.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SignJWT } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PRODUCTION_ISSUER, startProductionNode, type ProductionNode } from '../testkit/production.js';
import { axeViolations, launchBrowser, screenshot, type InBrowser } from './browser.js';

const CLIENT_ID = 'mcx-console-wmp';
let prod: ProductionNode;
let unbuilt: ProductionNode;
let browser: Browser;
let consoleUrl: string;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-console-prod-'));
  const oidcFile = path.join(dir, 'console-oidc.json');
  writeFileSync(
    oidcFile,
    JSON.stringify([
      {
        issuerId: 'wmp-idp',
        label: 'West Midlands Police account',
        authority: PRODUCTION_ISSUER,
        clientId: CLIENT_ID,
        scopes: 'openid mcx',
      },
    ]),
  );
  [prod, unbuilt, browser] = await Promise.all([
    startProductionNode({ env: { MCX_CONSOLE_OIDC_FILE: oidcFile } }),
    startProductionNode({ env: { MCX_CONSOLE_DIR: mkdtempSync(path.join(tmpdir(), 'mcx-console-none-')) } }),
    launchBrowser(),
  ]);
  consoleUrl = `${prod.t.node.url}/console/`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([prod?.t.close(), unbuilt?.t.close()]);
});

describe('the console on a production node', () => {
  it('offers no development sign-in: no button, no endpoint', async () => {
    const settings = (await (await fetch(`${consoleUrl}config.json`)).json()) as { devSignIn: unknown; environment: string };
    expect(settings).toMatchObject({ devSignIn: null, environment: 'production' });
    const res = await fetch(`${consoleUrl}dev-sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'investigator', force: 'WMP' }),
    });
    expect(res.status).toBe(404);
    const csp = (await fetch(consoleUrl)).headers.get('content-security-policy')!;
    expect(csp).toContain(`connect-src 'self' ${PRODUCTION_ISSUER}`);

    const page = await browser.newPage();
    await page.goto(consoleUrl);
    await page.getByRole('button', { name: 'Sign in with West Midlands Police account' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign in for development' }).count()).toBe(0);
    await screenshot(page, '10-production-sign-in');
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });

  it("signs in with the authorization code and PKCE, keeps the token in memory only, and ends the issuer's session at sign-out", async () => {
    const page = await browser.newPage();
    let authorize: URL | null = null;
    let tokenRequest: URLSearchParams | null = null;
    let endSession: URL | null = null;
    let issuedIdToken = '';
    // The force's identity provider, answered in the browser: discovery, authorize (straight back
    // with a code) and the token endpoint, which returns an access token the node verifies.
    await page.route(`${PRODUCTION_ISSUER}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/.well-known/openid-configuration') {
        return route.fulfill({
          json: {
            issuer: PRODUCTION_ISSUER,
            authorization_endpoint: `${PRODUCTION_ISSUER}/authorize`,
            token_endpoint: `${PRODUCTION_ISSUER}/token`,
            end_session_endpoint: `${PRODUCTION_ISSUER}/logout`,
            jwks_uri: `${PRODUCTION_ISSUER}/jwks`,
            response_types_supported: ['code'],
            code_challenge_methods_supported: ['S256'],
          },
          headers: { 'access-control-allow-origin': '*' },
        });
      }
      if (url.pathname === '/authorize') {
        authorize = url;
        const back = new URL(url.searchParams.get('redirect_uri')!);
        back.searchParams.set('code', 'code-1');
        back.searchParams.set('state', url.searchParams.get('state')!);
        return route.fulfill({ status: 302, headers: { location: back.toString() } });
      }
      if (url.pathname === '/token') {
        tokenRequest = new URLSearchParams(route.request().postData() ?? '');
        const accessToken = await prod.signToken({ sub: 'officer-7', roles: ['investigator'] });
        const idToken = await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(PRODUCTION_ISSUER)
          .setAudience(CLIENT_ID)
          .setSubject('officer-7')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('id-token-not-used-by-the-node-0123456789'));
        issuedIdToken = idToken;
        return route.fulfill({
          json: { access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: 300, scope: 'openid mcx' },
          headers: { 'access-control-allow-origin': '*' },
        });
      }
      if (url.pathname === '/logout') {
        endSession = url;
        return route.fulfill({ status: 302, headers: { location: url.searchParams.get('post_logout_redirect_uri')! } });
      }
      return route.fulfill({ status: 404 });
    });
    await page.goto(consoleUrl);
    await page.getByRole('button', { name: 'Sign in with West Midlands Police account' }).click();
    await page
      .getByRole('heading', { name: 'Why are you searching?' })
      .waitFor({ timeout: 10_000 })
      .catch(async (err: unknown) => {
        await screenshot(page, 'failed-oidc');
        throw new Error(`not signed in; the page says: ${await page.locator('main').innerText()}`, { cause: err });
      });
    expect(authorize!.searchParams.get('code_challenge_method')).toBe('S256');
    // The issuer asks for credentials every time: a session left open at the issuer does not sign anyone in.
    expect(authorize!.searchParams.get('prompt')).toBe('login');
    expect(authorize!.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(tokenRequest!.get('code_verifier')).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(await page.locator('.mcx-header__user').innerText()).toContain('West Midlands Police account');
    // The token is in the page's memory: neither storage holds it.
    const stored = await page.evaluate(() => {
      const g = globalThis as unknown as InBrowser;
      return JSON.stringify({ ...g.localStorage }) + JSON.stringify({ ...g.sessionStorage });
    });
    expect(stored).not.toContain('access_token');
    expect(stored).not.toContain('eyJ');
    // Sign-out ends the issuer's session too, with the ID token as the hint, and comes back signed out.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/signed-out=user/, { timeout: 10_000 });
    expect(endSession!.searchParams.get('id_token_hint')).toBe(issuedIdToken);
    expect(endSession!.searchParams.get('post_logout_redirect_uri')).toBe(`${new URL(consoleUrl).origin}/console/?signed-out=user`);
    await page.close();
  });

  it('answers 503 naming `npm run build` where the console has not been built, and says so in the log once', async () => {
    const url = `${unbuilt.t.node.url}/console/`;
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    }
    expect(unbuilt.t.logs().match(/the console is not built/g)).toHaveLength(1);
    expect((await fetch(`${unbuilt.t.node.url}/healthz`)).status).toBe(200);
  });
});
