import type {
  McxAssociateRole,
  McxCareStatus,
  McxDataSubjectCategory,
  McxEpisodeStatus,
  McxFoundBy,
  McxPlaceKind,
  McxRhiNotHeldReason,
  McxRhiTheme,
  McxRiskGrade,
  McxRiskIndicator,
} from '../../__generated__/resolvers-types.js';
import type { Grading } from '../records/grading.js';
import type { GeoLocation } from '../records/location.js';
import type { BaseContent, Envelope, StoredRecord } from '../records/record-kind.js';

export const EPISODE_SCHEMA = 'mcx.episode/1';

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
  associates: AssociateLink[];
  returnInterview: ReturnInterview | null;
}

/** A pointer to an Associate record, with the associate's role in this episode. */
export interface AssociateLink {
  owner: string;
  associateId: string;
  role: McxAssociateRole;
  dataSubjectCategory: McxDataSubjectCategory;
}

export interface ReturnInterview {
  offered: boolean;
  offeredAt: string | null;
  completedAt: string | null;
  notHeldReason: McxRhiNotHeldReason | null;
  themes: McxRhiTheme[];
}

/** Assessments, kept apart from the facts (DPA 2018 s38(2)). */
export interface EpisodeAssessment {
  riskGrade: McxRiskGrade;
  regrades: { grade: McxRiskGrade; at: string; byRole: string }[];
  indicators: McxRiskIndicator[];
}

/** The content a publisher controls; the node adds the envelope (owner, state, marking, publishedAt). */
export interface EpisodeContent extends BaseContent {
  subjectRef: string;
  facts: EpisodeFacts;
  assessment: EpisodeAssessment;
  grading: Grading | null;
}

/** An episode record exactly as signed and stored (canonical JSON of this object). */
export type EpisodeRecord = EpisodeContent & Envelope;

/** What the GraphQL layer resolves MissingEpisode from. */
export type EpisodeModel = StoredRecord<EpisodeRecord>;
