import type { McxConcern, McxConcernPlaceKind } from '../../__generated__/resolvers-types.js';
import type { Grading } from '../records/grading.js';
import type { GeoLocation } from '../records/location.js';
import type { BaseContent, Envelope, StoredRecord } from '../records/record-kind.js';

export const LOCATION_SCHEMA = 'mcx.location-of-concern/1';

/** A place of concern: the facts as reported, the concerns as assessed, and the grading. */
export interface LocationContent extends BaseContent {
  facts: { location: GeoLocation; placeKind: McxConcernPlaceKind; firstReportedAt: string; lastReportedAt: string; active: boolean };
  assessment: { concerns: McxConcern[] };
  grading: Grading;
}

/** A location of concern exactly as signed and stored. */
export type LocationRecord = LocationContent & Envelope;

/** What the GraphQL layer resolves McxLocationOfConcern from. */
export type LocationModel = StoredRecord<LocationRecord>;
