import { InMemoryWebStorage, UserManager, WebStorageStateStore } from 'oidc-client-ts';

import type { ConsoleSettings } from './settings';

/** Who is signed in. Held in the page's memory only: a reload or a sign-out forgets it. */
export interface Session {
  token: string;
  /** What the header says: the role and force of a development sign-in, or the issuer's label. */
  who: string;
  force: string;
  /** The role of a development sign-in; null after an issuer's sign-in (the node maps its roles, and refuses what they do not allow). */
  role: string | null;
  /** After an issuer's sign-in: which issuer, and the ID token that ends the issuer's session at sign-out. */
  oidc?: { issuerId: string; idToken: string | undefined };
}

/** Only the sign-in's own state (PKCE verifier, state) survives the redirect, in sessionStorage; never a token. */
const PENDING = 'mcx.signin.pending';
const CALLBACK = '/console/callback';

function manager(client: ConsoleSettings['oidc'][number]): UserManager {
  return new UserManager({
    authority: client.authority,
    client_id: client.clientId,
    scope: client.scopes,
    response_type: 'code',
    redirect_uri: `${location.origin}${CALLBACK}`,
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    stateStore: new WebStorageStateStore({ store: sessionStorage, prefix: 'mcx.oidc.' }),
    automaticSilentRenew: false,
    monitorSession: false,
    loadUserInfo: false,
  });
}

export async function devSignIn(role: string, force: string): Promise<Session> {
  const res = await fetch('/console/dev-sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role, force }),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!res.ok) throw new Error(`the development sign-in was refused (HTTP ${res.status})`);
  const body = (await res.json()) as { token: string; role: string; force: string };
  return { token: body.token, who: `${body.role}, ${body.force} (development sign-in)`, force: body.force, role: body.role };
}

/** Leaves for the issuer's sign-in page (authorization code with PKCE). */
export async function oidcSignIn(settings: ConsoleSettings, issuerId: string): Promise<void> {
  const client = settings.oidc.find((c) => c.issuerId === issuerId);
  if (!client) throw new Error('unknown sign-in');
  sessionStorage.setItem(PENDING, issuerId);
  // prompt=login: the issuer asks for the officer's credentials every time, so someone at a
  // workstation left signed in to the issuer cannot walk back into the console after a sign-out.
  await manager(client).signinRedirect({ prompt: 'login' });
}

/** On the way back from the issuer: exchanges the code for tokens, kept in memory. Null when this is not a callback. */
export async function completeOidcSignIn(settings: ConsoleSettings): Promise<Session | null> {
  if (location.pathname !== CALLBACK) return null;
  const callbackUrl = location.href;
  const issuerId = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  const client = settings.oidc.find((c) => c.issuerId === issuerId);
  history.replaceState(null, '', '/console/');
  if (!client) throw new Error('the sign-in could not be completed: start again');
  const mgr = manager(client);
  const user = await mgr.signinRedirectCallback(callbackUrl);
  await mgr.clearStaleState();
  return {
    token: user.access_token,
    who: client.label,
    force: settings.force,
    role: null,
    oidc: { issuerId: client.issuerId, idToken: user.id_token },
  };
}

/**
 * Signing out forgets everything: the session storage the sign-in used, and the page itself (a
 * fresh load), so no answer about a child stays in memory. After an issuer's sign-in it also ends
 * the issuer's session (its end-session endpoint, with the ID token as the hint), which then sends
 * the browser back to the console; an issuer that offers no end-session endpoint gets the fresh
 * load alone, and its next sign-in asks for credentials anyway (prompt=login).
 */
export async function signOut(reason: 'user' | 'idle', session?: Session | null, settings?: ConsoleSettings): Promise<void> {
  sessionStorage.clear();
  for (const key of Object.keys(localStorage)) if (key.startsWith('mcx.') || key.startsWith('oidc.')) localStorage.removeItem(key);
  const back = `${location.origin}/console/?signed-out=${reason}`;
  const client = session?.oidc && settings?.oidc.find((c) => c.issuerId === session.oidc!.issuerId);
  if (client) {
    try {
      await manager(client).signoutRedirect({ id_token_hint: session!.oidc!.idToken, post_logout_redirect_uri: back });
      return;
    } catch {
      // No end-session endpoint in the issuer's metadata (or it could not be read): the fresh load below.
    }
  }
  location.replace(back);
}

/** Signs out after `seconds` with no key press, click, touch or scroll. */
export function startIdleTimer(seconds: number, onIdle: () => void): () => void {
  let timer = window.setTimeout(onIdle, seconds * 1000);
  const reset = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(onIdle, seconds * 1000);
  };
  const events = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;
  for (const e of events) window.addEventListener(e, reset, { passive: true });
  return () => {
    window.clearTimeout(timer);
    for (const e of events) window.removeEventListener(e, reset);
  };
}
