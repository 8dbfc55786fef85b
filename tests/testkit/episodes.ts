import { randomUUID } from 'node:crypto';

import { LocalEpisodeDocument, LocalEpisodesDocument, PublishEpisodeDocument, type McxClient, type MissingEpisodeInput } from '@mcx/client';

const HOUR = 3600_000;

/** A valid, closed, synthetic episode; override any field. */
export function episodeInput(overrides: Partial<MissingEpisodeInput> = {}, now = new Date()): MissingEpisodeInput {
  const lastSeen = new Date(now.getTime() - 48 * HOUR);
  return {
    id: randomUUID(),
    version: 1,
    ownerReference: `MIS-${Math.floor(Math.random() * 1e6)}`,
    subjectRef: 'SUBJ-0001',
    reviewAt: new Date(now.getTime() + 400 * 24 * HOUR).toISOString().slice(0, 10),
    status: 'CLOSED',
    reportedAt: new Date(lastSeen.getTime() + 2 * HOUR).toISOString(),
    lastSeenAt: lastSeen.toISOString(),
    foundAt: new Date(lastSeen.getTime() + 20 * HOUR).toISOString(),
    missingFrom: { kind: 'CHILDRENS_HOME', location: { postcode: 'B15 2TT' } },
    careStatus: 'LOOKED_AFTER',
    foundPlace: { kind: 'OTHER', location: { postcode: 'B1 1AA', lat: 52.4796, lon: -1.9026 } },
    foundBy: 'POLICE',
    assessment: { riskGrade: 'MEDIUM', indicators: ['CSE'], regrades: [] },
    ...overrides,
  };
}

/** publishEpisode, returning the payload. */
export async function publishEpisode(client: McxClient, input: MissingEpisodeInput) {
  return (await client.request(PublishEpisodeDocument, { input })).publishEpisode;
}

/** localEpisodes, returning the connection. */
export async function localEpisodes(client: McxClient, vars: { subjectRef?: string; first?: number; after?: string } = {}) {
  return (await client.request(LocalEpisodesDocument, vars)).localEpisodes;
}

/** localEpisode by owner and id. */
export async function localEpisode(client: McxClient, owner: string, id: string) {
  return (await client.request(LocalEpisodeDocument, { owner, id })).localEpisode;
}
