/**
 * The console's budgets (npm run bench:console, after a build): the gzipped JavaScript the
 * investigator's pages load (at most 250 KB), and how long the history page takes to render
 * once the answer has arrived (at most 1 s), measured in Debian's Chromium on a large invented
 * history (60 episodes at three forces, 40 destinations, 20 locations of concern, 15 associates).
 * The built files are served as a node serves them; /graphql answers the invented history.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { launchBrowser } from './browser.js';

const DIST = path.resolve('services/console/dist');
const JS_BUDGET = 250 * 1024;
const RENDER_BUDGET_MS = 1000;
const DAY = 86_400_000;

const jsFiles = readdirSync(path.join(DIST, 'assets')).filter((f) => f.endsWith('.js'));
const jsGzip = jsFiles.reduce((n, f) => n + gzipSync(readFileSync(path.join(DIST, 'assets', f))).length, 0);

function history() {
  const now = Date.now();
  const forces = ['WMP', 'GMP', 'MPS'];
  const place = (i: number) => ({
    kind: 'OTHER',
    location: { uprn: null, postcode: `B${i % 30} 1AA`, lat: 52 + (i % 10) / 10, lon: -2 + (i % 7) / 10 },
  });
  const incident = (i: number) => {
    const found = new Date(now - i * 6 * DAY).toISOString();
    const owner = forces[i % 3]!;
    return {
      status: i === 0 ? 'OPEN' : 'CLOSED',
      reportedAt: found,
      lastSeenAt: found,
      foundAt: i === 0 ? null : found,
      riskGrade: ['LOW', 'MEDIUM', 'HIGH'][i % 3],
      indicators: ['CSE'],
      owners: [owner],
      confirmWithOwnerBeforeActing: i === 0,
      outOfArea: i % 2 === 0,
      sources: [
        {
          owner,
          ownerReference: `${owner}-MIS-${i}`,
          contact: '+44 100 000 0000',
          confirmWithOwner: i === 0,
          episode: {
            owner,
            id: `e-${i}`,
            status: i === 0 ? 'OPEN' : 'CLOSED',
            missingFrom: place(i),
            foundPlace: i === 0 ? null : place(i + 1),
            returnInterview: { offered: true, offeredAt: found, offeredWithin72Hours: true, completedAt: null, notHeldReason: null },
            disclosure: null,
          },
        },
      ],
    };
  };
  const incidents = Array.from({ length: 60 }, (_, i) => incident(i));
  return {
    childHistory: {
      asOf: new Date(now).toISOString(),
      openNow: [incidents[0]],
      incidents,
      possible: Array.from({ length: 5 }, (_, i) => ({
        strength: 'POSSIBLE',
        matchedKinds: ['name_dob'],
        episode: {
          owner: 'GMP',
          id: `p-${i}`,
          ownerReference: `GMP-MIS-P${i}`,
          status: 'CLOSED',
          reportedAt: new Date(now).toISOString(),
          foundAt: null,
        },
      })),
      riskSummary: {
        last30Days: 5,
        last90Days: 15,
        last365Days: 60,
        repeatThreshold: { count: 3, days: 90, incidents: 15, crossed: true },
        highestGrade: 'HIGH',
        latestGrade: 'LOW',
        indicators: ['CSE'],
        forcesInvolved: forces,
        outOfAreaIncidents: 30,
        overdueReturnInterviews: 2,
      },
      previousDestinations: Array.from({ length: 40 }, (_, i) => ({
        uprn: null,
        postcode: `B${i} 1AA`,
        lat: 51 + (i % 20) / 10,
        lon: -3 + (i % 15) / 10,
        placeKind: 'OTHER',
        timesFound: 1 + (i % 4),
        lastFoundAt: new Date(now - i * DAY).toISOString(),
        visits: [{ owner: 'WMP', episodeId: `e-${i}`, foundAt: new Date(now - i * DAY).toISOString() }],
      })),
      associates: Array.from({ length: 15 }, (_, i) => ({
        pointer: {
          owner: forces[i % 3],
          id: `a-${i}`,
          kind: 'ADULT_OF_CONCERN',
          ownerReference: `ASC-${i}`,
          flags: ['ADULT_OF_CONCERN'],
          contact: '+44 100 000 0000',
        },
        seenIn: [{ owner: 'WMP', episodeId: `e-${i}`, role: 'FOUND_WITH' }],
        otherChildrenLinked: i,
        forcesLinked: ['MPS'],
        linksComplete: true,
      })),
      locationsOfConcern: Array.from({ length: 20 }, (_, i) => ({
        distanceMetres: 100 + i,
        location: {
          owner: 'WMP',
          id: `l-${i}`,
          ownerReference: `LOC-${i}`,
          concerns: ['CSE_HOTSPOT'],
          placeKind: 'RESIDENTIAL',
          location: { postcode: `B${i} 1AA`, lat: 52, lon: -1.9 },
        },
      })),
      federation: {
        completeness: 'PARTIAL',
        cuts: [],
        members: forces.map((m, i) => ({
          member: m,
          status: i === 2 ? 'TIMED_OUT' : 'ANSWERED',
          reason: i === 2 ? 'TIMEOUT' : null,
          latencyMs: 1000,
          withheld: { restricted: 1, reviewOverdue: 0, notDisclosable: 2, integrityFault: null },
        })),
      },
    },
  };
}

const settings = {
  force: 'WMP',
  environment: 'development',
  purposes: ['MISSING_LIVE_SEARCH'],
  caseRef: { pattern: '^[A-Z]{2,4}-\\d{2,4}-\\d{1,10}$', maxLength: 32 },
  idleSeconds: 900,
  devSignIn: { roles: ['investigator'], forces: ['WMP'] },
  oidc: [],
};
const answer = JSON.stringify({ data: history() });
const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/graphql') return void res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  if (url === '/console/config.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(settings));
  if (url === '/console/dev-sign-in')
    return void res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: 't', role: 'investigator', force: 'WMP' }));
  const file = url === '/console/' ? 'index.html' : url.replace('/console/', '');
  try {
    const body = readFileSync(path.join(DIST, file));
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
    res.writeHead(200, { 'content-type': type }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/console/`;
const browser = await launchBrowser();
const renders: number[] = [];
for (let run = 0; run < 5; run++) {
  const page = await browser.newPage();
  await page.goto(base);
  await page.getByRole('button', { name: 'Sign in for development' }).click();
  await page.getByLabel('Live search for a missing child').check();
  await page.getByLabel('Case reference').fill('WMP-26-1001');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('First name').fill('Synthetic');
  await page.getByLabel('Date of birth not known').check();
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('heading', { name: "Child's history" }).waitFor();
  await page.waitForFunction(() => performance.getEntriesByName('mcx-history-render').length > 0);
  renders.push(await page.evaluate(() => performance.getEntriesByName('mcx-history-render')[0]!.duration));
  await page.close();
}
await browser.close();
server.close();
renders.sort((a, b) => a - b);
const median = renders[Math.floor(renders.length / 2)]!;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
process.stdout.write(
  `console JavaScript (${jsFiles.length} file${jsFiles.length === 1 ? '' : 's'}), gzipped: ${kb(jsGzip)} (budget ${kb(JS_BUDGET)})\n`,
);
process.stdout.write(
  `history page render after the answer (60 episodes, 40 destinations): median ${median.toFixed(0)} ms, worst ${renders.at(-1)!.toFixed(0)} ms over ${renders.length} runs (budget ${RENDER_BUDGET_MS} ms)\n`,
);
const over = jsGzip > JS_BUDGET || renders.at(-1)! > RENDER_BUDGET_MS;
if (over) process.stdout.write('OVER BUDGET\n');
process.exit(over ? 1 : 0);
