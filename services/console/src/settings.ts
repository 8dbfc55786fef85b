/** GET /console/config.json, as services/node/src/console-config.ts (ConsoleSettings) serves it. */
export interface ConsoleSettings {
  force: string;
  environment: 'development' | 'test' | 'production';
  purposes: string[];
  caseRef: { pattern: string; maxLength: number };
  idleSeconds: number;
  devSignIn: { roles: string[]; forces: string[] } | null;
  oidc: { issuerId: string; label: string; authority: string; clientId: string; scopes: string }[];
}

export async function loadSettings(): Promise<ConsoleSettings> {
  const res = await fetch('/console/config.json', { cache: 'no-store', credentials: 'omit' });
  if (!res.ok) throw new Error(`the node did not give the console its settings (${res.status})`);
  return (await res.json()) as ConsoleSettings;
}
