// The record locator for locations of concern (issue 23): a member's filter also holds the grid
// cells where it holds a location of concern that is not retracted, so a search for locations near
// a point asks only the members that may hold one there. Real nodes over loopback; the filters,
// their signatures and the audit are the production ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FederatedLocationsOfConcernDocument } from '@mcx/client';

import { allEntries, auditorOf } from '../testkit/audit.js';
import { eventually, startLocatorFederation } from '../testkit/locator.js';
import type { TestNode } from '../testkit/node.js';
import { locationInput, publishLocation, restrictRecord } from '../testkit/records.js';

const FORCES = ['WMP', 'GMP', 'MPS', 'WYP'] as const;
type Force = (typeof FORCES)[number];
const LOCATOR = { MCX_LOCATOR: 'on', MCX_LOCATOR_POLL_MS: '300', MCX_LOCATOR_MAX_AGE_MS: '3000', MCX_LOCATOR_REBUILD_MS: '200' };
// Blackpool; Manchester is about 70 km away, in other cells.
const NEAR = { lat: 53.8175, lon: -3.051, radiusMetres: 500 };
const FAR = { lat: 53.4808, lon: -2.2426 };
const GRADING = { scheme: '3x5x2' as const, source: '2', intelligence: 'B', handling: 'P', conditions: [] };

let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

async function near(point = NEAR) {
  const r = await nodes.WMP.investigator.request(FederatedLocationsOfConcernDocument, { near: point, concerns: null });
  return r.federatedLocationsOfConcern;
}
type Answer = Awaited<ReturnType<typeof near>>;
const statuses = (a: Answer) => Object.fromEntries(a.federation.members.map((m) => [m.member, m.status]));
const publishAt = async (force: Force, at: { lat: number; lon: number }) => {
  const { locationOfConcern, errors } = await publishLocation(
    nodes[force].client,
    locationInput({ location: { postcode: 'FY1 1AA', ...at }, grading: GRADING }),
  );
  expect(errors).toEqual([]);
  return locationOfConcern!.id;
};

beforeAll(async () => {
  ({ nodes, close } = await startLocatorFederation(FORCES, LOCATOR, { MCX_PEER_TIMEOUT_MS: '2500', MCX_FEDERATION_DEADLINE_MS: '4000' }));
  await publishAt('GMP', { lat: NEAR.lat + 0.001, lon: NEAR.lon });
  await publishAt('MPS', FAR);
  // A new place reaches the callers' filters within a rebuild and a poll, as a new subject does
  // (README, "The record locator"): the searches come 5 s after, as in record-locator.test.ts.
  await new Promise((r) => setTimeout(r, 5000));
}, 120_000);

afterAll(() => close?.());

describe('the record locator, for locations of concern', () => {
  it('asks only the members whose filter may hold a location near the point; the others are NOT_HOLDING, audited with their filter version', async () => {
    const { value: a } = await eventually(near, (a) => statuses(a).MPS === 'NOT_HOLDING' && statuses(a).GMP === 'ANSWERED', 8000);
    expect(statuses(a)).toEqual({ WMP: 'NOT_HOLDING', GMP: 'ANSWERED', MPS: 'NOT_HOLDING', WYP: 'NOT_HOLDING' });
    expect(a.federation.completeness).toBe('COMPLETE');
    expect(a.locations.map((l) => l.location.owner)).toEqual(['GMP']);
    const combination = (await allEntries(await auditorOf(nodes.WMP))).filter((e) => e.action === 'COMBINATION').at(-1)!;
    // Named with the version WMP held; MPS may have built a newer one since (its filters are rebuilt as it writes).
    const skip = combination.queryRecordIds.find((r) => r.startsWith('MPS:'));
    expect(skip).toMatch(/^MPS:NOT_HOLDING@\d+$/);
    expect(Number(skip!.split('@')[1])).toBeLessThanOrEqual(nodes.MPS.node.app.services.locatorFilter!.published!.version);
    // Manchester's own search asks MPS, which holds a location there, and not GMP.
    const far = await near({ ...FAR, radiusMetres: 500 });
    expect(statuses(far).MPS).toBe('ANSWERED');
    expect(statuses(far).GMP).toBe('NOT_HOLDING');
    expect(far.locations.map((l) => l.location.owner)).toEqual(['MPS']);
  });

  it('finds a location published 5 s ago near the point, and asks a member whose only location there is restricted (it reports it withheld)', async () => {
    const id = await publishAt('WYP', { lat: NEAR.lat - 0.001, lon: NEAR.lon + 0.001 });
    await new Promise((r) => setTimeout(r, 5000));
    const found = await near();
    expect(statuses(found).WYP).toBe('ANSWERED');
    expect(found.locations.map((l) => l.location.id)).toContain(id);
    expect((await restrictRecord(nodes.WYP.client, 'LOCATION_OF_CONCERN', id)).errors).toEqual([]);
    await new Promise((r) => setTimeout(r, 5000));
    const withheld = await near();
    expect(statuses(withheld).WYP).toBe('ANSWERED');
    expect(withheld.locations.map((l) => l.location.id)).not.toContain(id);
    expect(withheld.federation.members.find((m) => m.member === 'WYP')!.withheld!.restricted).toBe(1);
    expect(withheld.federation.completeness).toBe('COMPLETE');
  });
});
