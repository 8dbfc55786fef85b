import { randomUUID } from 'node:crypto';

import type { MissingEpisodeInput } from '@mcx/client';

/** A few synthetic, invented episodes for a force (no real child, place or person). */
export function syntheticEpisodes(force: string, count: number, now = new Date()): MissingEpisodeInput[] {
  const places = [
    { postcode: 'B1 1AA', lat: 52.4796, lon: -1.9026 },
    { postcode: 'M1 1AE', lat: 53.4794, lon: -2.2453 },
    { postcode: 'E1 6AN', lat: 51.5202, lon: -0.0726 },
  ];
  const reviewAt = new Date(now.getTime() + 365 * 86400_000).toISOString().slice(0, 10);
  return Array.from({ length: count }, (_, i) => {
    const lastSeen = new Date(now.getTime() - (i * 9 + 2) * 86400_000);
    const reported = new Date(lastSeen.getTime() + 3 * 3600_000);
    const found = new Date(reported.getTime() + 20 * 3600_000);
    const place = places[i % places.length]!;
    return {
      id: randomUUID(),
      version: 1,
      ownerReference: `${force}-MIS-${String(1000 + i)}`,
      subjectRef: `${force}-SUBJ-${String(1 + (i % 3))}`,
      reviewAt,
      status: 'CLOSED',
      reportedAt: reported.toISOString(),
      lastSeenAt: lastSeen.toISOString(),
      foundAt: found.toISOString(),
      missingFrom: { kind: i % 2 ? 'CHILDRENS_HOME' : 'FOSTER', location: { postcode: place.postcode } },
      careStatus: 'LOOKED_AFTER',
      foundPlace: { kind: 'OTHER', location: place },
      foundBy: 'POLICE',
      assessment: { riskGrade: i % 3 === 0 ? 'HIGH' : 'MEDIUM', indicators: i % 2 ? ['CCE_COUNTY_LINES'] : ['CSE'], regrades: [] },
    };
  });
}
