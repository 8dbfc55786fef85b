import { randomUUID } from 'node:crypto';

import postgres from 'postgres';

import {
  PublishAssociateDocument,
  PublishLocationOfConcernDocument,
  RestrictRecordDocument,
  RetractRecordDocument,
  UnrestrictRecordDocument,
  type McxAssociateInput,
  type McxClient,
  type McxLocationOfConcernInput,
  type McxRecordKind,
  type McxRestrictionReason,
  type McxRetractionReason,
} from '@mcx/client';

const DAY = 86400_000;

/** A valid synthetic adult-of-concern associate, graded B2P... override any field. */
export function associateInput(overrides: Partial<McxAssociateInput> = {}, now = new Date()): McxAssociateInput {
  return {
    id: randomUUID(),
    version: 1,
    ownerReference: `ASC-${Math.floor(Math.random() * 1e6)}`,
    reviewAt: new Date(now.getTime() + 400 * DAY).toISOString().slice(0, 10),
    descriptors: { isChild: false, ageBand: 'AGE_25_PLUS', sex: 'MALE' },
    flags: ['ADULT_OF_CONCERN'],
    grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: 'P', conditions: [] },
    ...overrides,
  };
}

/** A valid synthetic location of concern; override any field. */
export function locationInput(overrides: Partial<McxLocationOfConcernInput> = {}, now = new Date()): McxLocationOfConcernInput {
  return {
    id: randomUUID(),
    version: 1,
    ownerReference: `LOC-${Math.floor(Math.random() * 1e6)}`,
    reviewAt: new Date(now.getTime() + 400 * DAY).toISOString().slice(0, 10),
    location: { postcode: 'B5 4BU', lat: 52.4751, lon: -1.8907 },
    placeKind: 'HOTEL',
    concerns: ['CSE_HOTSPOT'],
    firstReportedAt: new Date(now.getTime() - 90 * DAY).toISOString(),
    lastReportedAt: new Date(now.getTime() - 3 * DAY).toISOString(),
    active: true,
    grading: { scheme: '3x5x2', source: '1', intelligence: 'B', handling: 'C', conditions: ['POLICE_ONLY'] },
    ...overrides,
  };
}

export async function publishAssociate(client: McxClient, input: McxAssociateInput) {
  return (await client.request(PublishAssociateDocument, { input })).publishAssociate;
}

export async function publishLocation(client: McxClient, input: McxLocationOfConcernInput) {
  return (await client.request(PublishLocationOfConcernDocument, { input })).publishLocationOfConcern;
}

export async function restrictRecord(
  client: McxClient,
  kind: McxRecordKind,
  id: string,
  reason: McxRestrictionReason = 'ACCURACY_CONTESTED',
) {
  return (await client.request(RestrictRecordDocument, { kind, id, reason })).restrictRecord;
}

export async function unrestrictRecord(client: McxClient, kind: McxRecordKind, id: string) {
  return (await client.request(UnrestrictRecordDocument, { kind, id })).unrestrictRecord;
}

export async function retractRecord(
  client: McxClient,
  kind: McxRecordKind,
  id: string,
  version: number,
  reason: McxRetractionReason = 'CREATED_IN_ERROR',
) {
  return (await client.request(RetractRecordDocument, { kind, id, version, reason })).retractRecord;
}

/** Counts what is stored, straight from the node's database (for "nothing was stored"). */
export function storedCounter(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  return {
    async versions(id?: string): Promise<number> {
      const rows = id
        ? await sql<{ n: number }[]>`select count(*)::int as n from record_versions where id = ${id}`
        : await sql<{ n: number }[]>`select count(*)::int as n from record_versions`;
      return rows[0]!.n;
    },
    /** Versions stored across many ids, in one query. */
    async versionsOf(ids: string[]): Promise<number> {
      const rows = await sql<{ n: number }[]>`select count(*)::int as n from record_versions where id = any(${ids})`;
      return rows[0]!.n;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
