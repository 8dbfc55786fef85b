// Helpers of npm run bench:locator (tests/bench/locator-bench.ts).
import { createServer } from 'node:net';

/** A synthetic identity: letters-only names, a date of birth and an NHS number in the 999 test range with its check digit. */
export function identity(i: number) {
  const syl = ['ba', 'ko', 'ri', 'len', 'mar', 'dis', 'tho', 'vel', 'qua', 'sen'];
  const word = (n: number) => `${syl[n % 10]}${syl[Math.floor(n / 10) % 10]}${syl[Math.floor(n / 100) % 10]}`;
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  for (let j = i * 7; ; j++) {
    const base = `999${String(j).padStart(6, '0')}`;
    const sum = [...base].reduce((s, d, k) => s + Number(d) * (10 - k), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    const nhsNumber = `${base}${check === 11 ? 0 : check}`;
    const dob = `20${String(8 + (i % 8)).padStart(2, '0')}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
    return { forename: cap(word(i)), surname: cap(word(i + 317)), dob, sex: i % 2 ? ('FEMALE' as const) : ('MALE' as const), nhsNumber };
  }
}

const taken = new Set<number>();
/** A free loopback port in 20000-31999 (never one handed out before in this run). */
export async function listenablePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (taken.has(port)) continue;
    taken.add(port);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
