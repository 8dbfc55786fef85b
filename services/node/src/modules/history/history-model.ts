/**
 * The child's history as the GraphQL layer resolves it (the codegen mappers point here), and the
 * rules it is computed by. The computations are in reconcile.ts, risk-summary.ts, destinations.ts
 * and history-associates.ts.
 */
import type { MemberResult, PeerMatch } from '@mcx/federation';

import type { McxAssociateRole, McxRiskGrade, McxRiskIndicator } from '../../__generated__/resolvers-types.js';
import type { AssociatePointerRecord } from '../associate/associate-model.js';
import type { EpisodeRecord, Place } from '../episode/episode-model.js';
import type { LocationRecord } from '../location-of-concern/location-model.js';
import type { StoredRecord } from '../records/record-kind.js';

/** A verified episode from a member and the match it came by: what the federated read and the child's history are built from. */
export interface FederatedEpisodeModel {
  member: string;
  match: PeerMatch;
  episode: StoredRecord<EpisodeRecord>;
}

/** A verified location of concern and its distance from the nearest point asked about. */
export interface LocationNearModel {
  location: StoredRecord<LocationRecord>;
  distanceMetres: number;
}

/** Overlapping episodes of one child: one incident, several sources. */
export interface Incident {
  sources: FederatedEpisodeModel[];
  status: 'OPEN' | 'CLOSED';
  reportedAt: string;
  lastSeenAt: string;
  foundAt: string | null;
  riskGrade: McxRiskGrade;
  indicators: McxRiskIndicator[];
  owners: string[];
  confirmWithOwnerBeforeActing: boolean;
  outOfArea: boolean;
}

/** The risk summary over strong incidents (McxRiskSummary). */
export interface RiskSummary {
  last30Days: number;
  last90Days: number;
  last365Days: number;
  repeatThreshold: { count: number; days: number; incidents: number; crossed: boolean };
  highestGrade: McxRiskGrade | null;
  latestGrade: McxRiskGrade | null;
  indicators: McxRiskIndicator[];
  forcesInvolved: string[];
  outOfAreaIncidents: number;
  overdueReturnInterviews: number;
}

/** A child's history as childHistory returns it (McxChildHistory): what HistoryService.childHistory builds. */
export interface ChildHistoryModel {
  asOf: string;
  openNow: Incident[];
  incidents: Incident[];
  possible: FederatedEpisodeModel[];
  riskSummary: RiskSummary;
  previousDestinations: Destination[];
  associates: HistoryAssociate[];
  locationsOfConcern: LocationNearModel[];
  federation: { completeness: 'COMPLETE' | 'PARTIAL'; members: MemberResult[]; cuts: string[] };
}

/** How the history is computed: the clock, the repeat threshold and the reference data. */
export interface HistoryRules {
  asOf: Date;
  repeat: { count: number; days: number };
  /** The police area of a force or authority code (a force is its own area); null when unknown. */
  policeAreaOf(code: string): string | null;
}

/** The history settings of this node: the clock, the repeat threshold, the distance for "near", police areas. */
export interface HistorySettings {
  now(): Date;
  repeat: { count: number; days: number };
  nearMetres: number;
  policeAreaOf(code: string): string | null;
}

/** A previous destination and the visits grouped into it. */
export interface Destination {
  uprn: string | null;
  postcode: string | null;
  lat: number | null;
  lon: number | null;
  placeKind: Place['kind'];
  visits: { owner: string; episodeId: string; foundAt: string }[];
  timesFound: number;
  lastFoundAt: string;
  score: number;
}

/** An associate in the history: its verified pointer, where it was seen, and its owner's link counts. */
export interface HistoryAssociate {
  pointer: StoredRecord<AssociatePointerRecord>;
  seenIn: { owner: string; episodeId: string; role: McxAssociateRole }[];
  /** null: the owner holds no count yet. */
  otherChildrenLinked: number | null;
  forcesLinked: string[];
  linksComplete: boolean;
  /** When the oldest of the owner's stored counts was taken; null when it holds none. */
  linkCountsAsOf: string | null;
}
