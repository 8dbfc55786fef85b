/**
 * One invented child for the demo's childHistory, known to all three forces: missing now from
 * a children's home in Manchester (GMP, confirm with the owner), found twice at the same
 * Birmingham address (WMP), once at a London station (MPS), with an adult of concern held by
 * WMP and a location of concern at the Birmingham address. Ids are derived from the force and
 * a number, so running the demo again finds them already published.
 *
 * Two more records show what an investigator is not simply given: at GMP another invented girl
 * whose forename differs (Elly, not Ellie) with the same surname, date of birth and sex, so the
 * linkage matches her only on fuzzy keys (a possible match, never merged); and at MPS an old
 * episode of the demo child restricted by its owner (accuracy contested), counted as withheld.
 */
import { createHash } from 'node:crypto';

import { gql } from 'graphql-tag';

import {
  PublishAssociateDocument,
  PublishEpisodeDocument,
  PublishLocationOfConcernDocument,
  RestrictRecordDocument,
  type McxClient,
  type MissingEpisodeInput,
} from '@mcx/client';

/** The demo child's identity, as the README's childHistory example sends it. All invented. */
export const DEMO_CHILD = { forename: 'Ellie', surname: 'Marsh', dob: '2011-05-14', sex: 'FEMALE' as const };

const PUBLISH_SUBJECT = gql`
  mutation DemoChildSubject($input: McxSubjectInput!) {
    publishSubject(input: $input) {
      errors {
        field
        code
      }
    }
  }
`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function demoId(force: string, n: number): string {
  const h = createHash('sha256').update(`mcx-demo-child/${force}/${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Published already (by an earlier run of the demo) is fine; anything else is a real error. */
function check(what: string, errors: readonly { code: string }[]): void {
  if (errors.some((e) => e.code !== 'CONFLICT' && e.code !== 'STALE_VERSION'))
    throw new Error(`demo child: ${what} refused: ${JSON.stringify(errors)}`);
}

const home = { kind: 'CHILDRENS_HOME' as const, location: { postcode: 'M14 5AB', lat: 53.45, lon: -2.22 } };
const birminghamAddress = { uprn: '100070999001', postcode: 'B5 4BU', lat: 52.4751, lon: -1.8907 };

function episode(force: string, n: number, daysAgo: number, over: Partial<MissingEpisodeInput>, now: Date): MissingEpisodeInput {
  const lastSeen = new Date(now.getTime() - daysAgo * DAY);
  const found = new Date(lastSeen.getTime() + 15 * HOUR);
  return {
    id: demoId(force, n),
    version: 1,
    ownerReference: `${force}-MIS-DEMO-${n}`,
    subjectRef: `${force}-SUBJ-7001`,
    reviewAt: new Date(now.getTime() + 700 * DAY).toISOString().slice(0, 10),
    status: 'CLOSED',
    reportedAt: new Date(lastSeen.getTime() + 2 * HOUR).toISOString(),
    lastSeenAt: lastSeen.toISOString(),
    foundAt: found.toISOString(),
    missingFrom: home,
    careStatus: 'LOOKED_AFTER',
    placingAuthority: 'LAMANC',
    foundBy: 'POLICE',
    assessment: { riskGrade: 'MEDIUM', indicators: ['CSE'], regrades: [] },
    returnInterview: { offered: true, offeredAt: new Date(found.getTime() + 20 * HOUR).toISOString(), completedAt: null, themes: [] },
    ...over,
  };
}

/** The same invented man, as a force records him: an adult of concern, with a name and a phone for linkage. */
function adultOfConcern(force: string, intelligence: 'B' | 'C', reviewAt: string) {
  return {
    id: demoId(force, 100),
    version: 1,
    ownerReference: `${force}-ASC-DEMO-1`,
    reviewAt,
    identity: { forename: 'Gideon', surname: 'Crane', phone: '+447700900555' },
    descriptors: { isChild: false, ageBand: 'AGE_25_PLUS' as const, sex: 'MALE' as const },
    flags: ['ADULT_OF_CONCERN' as const],
    grading: { scheme: '3x5x2', source: '2', intelligence, handling: 'P', conditions: [] },
  };
}

/** Publishes the demo child at each force, through that force's publisher client. */
export async function seedDemoChild(clients: Record<'WMP' | 'GMP' | 'MPS', McxClient>, now = new Date()): Promise<void> {
  const reviewAt = new Date(now.getTime() + 365 * DAY).toISOString().slice(0, 10);
  for (const [force, client] of Object.entries(clients)) {
    const res = (await client.request(
      PUBLISH_SUBJECT as never,
      { input: { subjectRef: `${force}-SUBJ-7001`, reviewAt, identity: DEMO_CHILD } } as never,
    )) as { publishSubject: { errors: { code: string }[] } };
    check('subject', res.publishSubject.errors);
  }
  const associate = await clients.WMP.request(PublishAssociateDocument, { input: adultOfConcern('WMP', 'B', reviewAt) });
  check('associate', associate.publishAssociate.errors);
  const loc = await clients.WMP.request(PublishLocationOfConcernDocument, {
    input: {
      id: demoId('WMP', 200),
      version: 1,
      ownerReference: 'WMP-LOC-DEMO-1',
      reviewAt,
      location: birminghamAddress,
      placeKind: 'RESIDENTIAL',
      concerns: ['CSE_HOTSPOT'],
      firstReportedAt: new Date(now.getTime() - 120 * DAY).toISOString(),
      lastReportedAt: new Date(now.getTime() - 5 * DAY).toISOString(),
      active: true,
      grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: 'P', conditions: [] },
    },
  });
  check('location of concern', loc.publishLocationOfConcern.errors);
  // MPS holds its own record of the same man, found with another invented child: a cross-force link.
  const theirs = await clients.MPS.request(PublishAssociateDocument, { input: adultOfConcern('MPS', 'C', reviewAt) });
  check('associate', theirs.publishAssociate.errors);
  const other = (await clients.MPS.request(
    PUBLISH_SUBJECT as never,
    {
      input: { subjectRef: 'MPS-SUBJ-7002', reviewAt, identity: { forename: 'Tara', surname: 'Quinn', dob: '2010-09-02', sex: 'FEMALE' } },
    } as never,
  )) as { publishSubject: { errors: { code: string }[] } };
  check('subject', other.publishSubject.errors);
  const tara = episode(
    'MPS',
    2,
    30,
    {
      subjectRef: 'MPS-SUBJ-7002',
      associates: [{ associateId: demoId('MPS', 100), role: 'MISSING_WITH', dataSubjectCategory: 'SUSPECT' }],
    },
    now,
  );
  check('episode MPS-MIS-DEMO-2', (await clients.MPS.request(PublishEpisodeDocument, { input: tara })).publishEpisode.errors);
  const withAdult = [{ associateId: demoId('WMP', 100), role: 'FOUND_WITH' as const, dataSubjectCategory: 'SUSPECT' as const }];
  const episodes: [McxClient, MissingEpisodeInput][] = [
    [clients.WMP, episode('WMP', 1, 20, { foundPlace: { kind: 'OTHER', location: birminghamAddress }, associates: withAdult }, now)],
    [
      clients.WMP,
      episode(
        'WMP',
        2,
        45,
        {
          foundPlace: { kind: 'OTHER', location: birminghamAddress },
          associates: withAdult,
          assessment: { riskGrade: 'HIGH', indicators: ['CSE', 'ALCOHOL'], regrades: [] },
        },
        now,
      ),
    ],
    [
      clients.MPS,
      episode(
        'MPS',
        1,
        200,
        {
          foundPlace: { kind: 'OTHER', location: { postcode: 'NW1 2DN', lat: 51.5308, lon: -0.1238 } },
          returnInterview: null,
          assessment: { riskGrade: 'LOW', indicators: [], regrades: [] },
        },
        now,
      ),
    ],
    [
      clients.GMP,
      {
        ...episode('GMP', 1, 1, { assessment: { riskGrade: 'HIGH', indicators: ['CSE'], regrades: [] } }, now),
        status: 'OPEN',
        foundAt: null,
        foundBy: null,
        returnInterview: null,
        grading: { scheme: '3x5x2', source: '1', intelligence: 'B', handling: 'C', conditions: ['CONFIRM_WITH_OWNER'] },
      },
    ],
  ];
  for (const [client, input] of episodes)
    check(`episode ${input.ownerReference}`, (await client.request(PublishEpisodeDocument, { input })).publishEpisode.errors);
  await seedPossibleAndWithheld(clients, now, reviewAt);
}

/** A possible match at GMP (fuzzy keys only) and a restricted episode at MPS (withheld), both long ago. */
async function seedPossibleAndWithheld(clients: Record<'WMP' | 'GMP' | 'MPS', McxClient>, now: Date, reviewAt: string): Promise<void> {
  const elly = (await clients.GMP.request(
    PUBLISH_SUBJECT as never,
    { input: { subjectRef: 'GMP-SUBJ-7003', reviewAt, identity: { ...DEMO_CHILD, forename: 'Elly' } } } as never,
  )) as { publishSubject: { errors: { code: string }[] } };
  check('subject', elly.publishSubject.errors);
  const possible = episode(
    'GMP',
    2,
    500,
    { subjectRef: 'GMP-SUBJ-7003', assessment: { riskGrade: 'LOW', indicators: [], regrades: [] } },
    now,
  );
  check('episode GMP-MIS-DEMO-2', (await clients.GMP.request(PublishEpisodeDocument, { input: possible })).publishEpisode.errors);
  const contested = episode('MPS', 3, 420, { assessment: { riskGrade: 'LOW', indicators: [], regrades: [] } }, now);
  check('episode MPS-MIS-DEMO-3', (await clients.MPS.request(PublishEpisodeDocument, { input: contested })).publishEpisode.errors);
  const restricted = await clients.MPS.request(RestrictRecordDocument, {
    kind: 'EPISODE',
    id: contested.id!,
    reason: 'ACCURACY_CONTESTED',
  });
  check('restriction of MPS-MIS-DEMO-3', restricted.restrictRecord.errors);
}
