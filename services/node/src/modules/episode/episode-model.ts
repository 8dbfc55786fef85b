import type {
  McxCareStatus,
  McxEpisodeStatus,
  McxFoundBy,
  McxPlaceKind,
  McxRecordState,
  McxRiskGrade,
  McxRiskIndicator,
} from '../../__generated__/resolvers-types.js';
import type { GeoLocation } from '../records/location.js';

export const EPISODE_SCHEMA = 'mcx.episode/1';
export const MARKING = 'OFFICIAL-SENSITIVE';

export interface Place {
  kind: McxPlaceKind;
  location: GeoLocation | null;
}

/** The facts of an episode: what happened, as recorded. */
export interface EpisodeFacts {
  status: McxEpisodeStatus;
  reportedAt: string;
  lastSeenAt: string;
  foundAt: string | null;
  missingFrom: Place;
  careStatus: McxCareStatus;
  placingAuthority: string | null;
  foundPlace: Place | null;
  foundBy: McxFoundBy | null;
}

/** Assessments, kept apart from the facts (DPA 2018 s38(2)). */
export interface EpisodeAssessment {
  riskGrade: McxRiskGrade;
  regrades: { grade: McxRiskGrade; at: string; byRole: string }[];
  indicators: McxRiskIndicator[];
}

/** The content a publisher controls; the node adds owner, state, marking and publishedAt. */
export interface EpisodeContent {
  id: string;
  version: number;
  ownerReference: string;
  subjectRef: string;
  reviewAt: string;
  facts: EpisodeFacts;
  assessment: EpisodeAssessment;
}

/** An episode record exactly as signed and stored (canonical JSON of this object). */
export interface EpisodeRecord extends EpisodeContent {
  schema: typeof EPISODE_SCHEMA;
  kind: 'episode';
  owner: string;
  state: McxRecordState;
  marking: typeof MARKING;
  publishedAt: string;
}

/** What the GraphQL layer resolves MissingEpisode from: the parsed record and its bytes. */
export interface EpisodeModel {
  record: EpisodeRecord;
  bytes: string;
}

/** Parses stored bytes back into the model; the bytes stay the source of truth. */
export function episodeFromBytes(bytes: string): EpisodeModel {
  const record = JSON.parse(bytes) as EpisodeRecord;
  if (record.schema !== EPISODE_SCHEMA) throw new Error(`unexpected record schema ${String(record.schema)}`);
  return { record, bytes };
}
