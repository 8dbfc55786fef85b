/**
 * The shapes of signed records as they travel between nodes, for the caller's fourth check
 * (DESIGN.md "The peer protocol"): a record whose signature verifies but that does not parse
 * against its schema is dropped as MALFORMED, never allowed to fail a whole answer.
 *
 * Each schema is tied to the record's TypeScript type (a compile error if they drift apart), its
 * enum codes come from the GraphQL schema (schema/*.graphql, the one list of codes), and its
 * dates and instants pass the same checks as the GraphQL scalars they are served as.
 */
import { Kind as GraphqlKind, parse, type EnumTypeDefinitionNode, type GraphQLScalarType } from 'graphql';
import { z } from 'zod';

import type {
  McxAssociateFlag,
  McxAssociatePointerKind,
  McxAssociateRole,
  McxCareStatus,
  McxConcern,
  McxConcernPlaceKind,
  McxDataSubjectCategory,
  McxEpisodeStatus,
  McxFoundBy,
  McxHandlingCondition,
  McxPlaceKind,
  McxRhiNotHeldReason,
  McxRhiTheme,
  McxRiskGrade,
  McxRiskIndicator,
} from '../../__generated__/resolvers-types.js';
import { DateScalar, DateTimeScalar } from '../../scalars.js';
import { loadTypeDefs } from '../../schema.js';
import type { AssociatePointerRecord, DisclosureNote } from '../associate/associate-model.js';
import { EPISODE_SCHEMA, type EpisodeRecord } from '../episode/episode-model.js';
import { LOCATION_SCHEMA, type LocationRecord } from '../location-of-concern/location-model.js';
import { HANDLING, INTELLIGENCE, SOURCE, type Grading } from './grading.js';
import type { GeoLocation } from './location.js';
import { MARKING } from './record-kind.js';

const sdl = parse(loadTypeDefs());

/** The codes of a GraphQL enum, as a zod enum of its generated type. */
function codes<T extends string>(name: string) {
  const def = sdl.definitions.find(
    (d): d is EnumTypeDefinitionNode => d.kind === GraphqlKind.ENUM_TYPE_DEFINITION && d.name.value === name,
  );
  if (!def?.values?.length) throw new Error(`the GraphQL schema has no enum ${name}`);
  return z.enum(def.values.map((v) => v.name.value) as [T, ...T[]]);
}

/** A string the GraphQL scalar would serve (a real RFC 3339 instant, a real calendar date). */
function servedAs(scalar: GraphQLScalarType) {
  return z.string().refine((v) => {
    try {
      scalar.serialize(v);
      return true;
    } catch {
      return false;
    }
  }, `not a valid ${scalar.name}`);
}

const instant = servedAs(DateTimeScalar);
const date = servedAs(DateScalar);
const code = z.string().min(1).max(64);
const reference = z.string().min(1).max(64);
const version = z.number().int().min(1).max(2_000_000_000);

const location = z.strictObject({
  uprn: z.string().max(12).nullable(),
  postcode: z.string().max(8).nullable(),
  lat: z.number().min(-90).max(90).nullable(),
  lon: z.number().min(-180).max(180).nullable(),
}) satisfies z.ZodType<GeoLocation>;

const grading = z.strictObject({
  scheme: z.literal('3x5x2'),
  source: z.enum(SOURCE),
  intelligence: z.enum(INTELLIGENCE),
  handling: z.enum(HANDLING),
  conditions: z.array(codes<McxHandlingCondition>('McxHandlingCondition')).max(8),
}) satisfies z.ZodType<Grading>;

const disclosureNote = z.strictObject({
  policy: z.string().min(1).max(32),
  redacted: z.array(z.string().max(64)).max(20),
  coarsened: z.array(z.string().max(64)).max(20),
}) satisfies z.ZodType<DisclosureNote>;

/** What every content record carries around its content (record-kind.ts BaseContent and Envelope). */
function envelope<S extends string, K extends string>(schema: S, kind: K) {
  return {
    schema: z.literal(schema),
    kind: z.literal(kind),
    owner: code,
    id: z.uuid(),
    version,
    state: z.literal('ACTIVE'),
    marking: z.literal(MARKING),
    publishedAt: instant,
    ownerReference: reference,
    reviewAt: date,
  };
}

const place = z.strictObject({ kind: codes<McxPlaceKind>('McxPlaceKind'), location: location.nullable() });
const riskGrade = codes<McxRiskGrade>('McxRiskGrade');

/** An episode (episode-model.ts), as stored or as a disclosed view with its note. */
export const episodeRecordSchema = z.strictObject({
  ...envelope(EPISODE_SCHEMA, 'episode'),
  subjectRef: reference,
  facts: z.strictObject({
    status: codes<McxEpisodeStatus>('McxEpisodeStatus'),
    reportedAt: instant,
    lastSeenAt: instant,
    foundAt: instant.nullable(),
    missingFrom: place,
    careStatus: codes<McxCareStatus>('McxCareStatus'),
    placingAuthority: code.nullable(),
    foundPlace: place.nullable(),
    foundBy: codes<McxFoundBy>('McxFoundBy').nullable(),
    associates: z
      .array(
        z.strictObject({
          owner: code,
          associateId: z.uuid(),
          role: codes<McxAssociateRole>('McxAssociateRole'),
          dataSubjectCategory: codes<McxDataSubjectCategory>('McxDataSubjectCategory'),
        }),
      )
      .max(50),
    returnInterview: z
      .strictObject({
        offered: z.boolean(),
        offeredAt: instant.nullable(),
        completedAt: instant.nullable(),
        notHeldReason: codes<McxRhiNotHeldReason>('McxRhiNotHeldReason').nullable(),
        themes: z.array(codes<McxRhiTheme>('McxRhiTheme')).max(10),
      })
      .nullable(),
  }),
  assessment: z.strictObject({
    riskGrade,
    regrades: z.array(z.strictObject({ grade: riskGrade, at: instant, byRole: z.string().min(1).max(40) })).max(50),
    indicators: z.array(codes<McxRiskIndicator>('McxRiskIndicator')).max(20),
  }),
  grading: grading.nullable(),
  disclosure: disclosureNote.optional(),
}) satisfies z.ZodType<EpisodeRecord & { disclosure?: DisclosureNote }>;

/** A location of concern (location-spec.ts). */
export const locationRecordSchema = z.strictObject({
  ...envelope(LOCATION_SCHEMA, 'location_of_concern'),
  facts: z.strictObject({
    location,
    placeKind: codes<McxConcernPlaceKind>('McxConcernPlaceKind'),
    firstReportedAt: instant,
    lastReportedAt: instant,
    active: z.boolean(),
  }),
  assessment: z.strictObject({ concerns: z.array(codes<McxConcern>('McxConcern')).min(1).max(4) }),
  grading,
}) satisfies z.ZodType<LocationRecord>;

/** An associate as a pointer (disclose.ts): never a name, never descriptors. */
export const associatePointerSchema = z.strictObject({
  schema: z.literal('mcx.associate-pointer/1'),
  kind: z.literal('associate'),
  owner: code,
  id: z.uuid(),
  version,
  marking: z.literal(MARKING),
  pointer: codes<McxAssociatePointerKind>('McxAssociatePointerKind'),
  ownerReference: reference.nullable(),
  grading: grading.nullable(),
  flags: z.array(codes<McxAssociateFlag>('McxAssociateFlag')).max(3),
  contact: z.string().max(100).nullable(),
  disclosure: disclosureNote,
}) satisfies z.ZodType<AssociatePointerRecord>;

/** The record schemas a member may send, by their `schema` name. */
export const RECEIVED_SCHEMAS = {
  [EPISODE_SCHEMA]: episodeRecordSchema,
  [LOCATION_SCHEMA]: locationRecordSchema,
  'mcx.associate-pointer/1': associatePointerSchema,
} as const;

export type ReceivedSchema = keyof typeof RECEIVED_SCHEMAS;

/** A received record, parsed against the schema it names. */
export type Received = { [S in ReceivedSchema]: { schema: S; record: z.output<(typeof RECEIVED_SCHEMAS)[S]> } }[ReceivedSchema];
