import type { McxLocationOfConcernInput } from '../../__generated__/resolvers-types.js';
import { checkGrading } from '../records/grading.js';
import { checkLocation } from '../records/location.js';
import { checkBase, type RecordKindSpec, type WriteRules } from '../records/record-kind.js';
import { InputChecker, type Checked } from '../records/validation.js';
import { LOCATION_SCHEMA, type LocationContent } from './location-model.js';

/** Validates a location of concern: a place with a point or postcode, concerns and grading. */
export function checkLocationInput(input: McxLocationOfConcernInput, rules: WriteRules): Checked<LocationContent> {
  const c = new InputChecker();
  const notAfter = new Date(rules.now.getTime() + rules.clockSkewSeconds * 1000);
  const base = checkBase(c, input, rules, { kind: 'location_of_concern', from: input.lastReportedAt, fromField: 'lastReportedAt' });
  const location = checkLocation(c, input.location, { required: true });
  const placeKind = c.required('placeKind', input.placeKind);
  const concerns = [...new Set(c.list('concerns', input.concerns, 4))].sort();
  if (input.concerns != null && concerns.length === 0) c.fail('concerns', 'REQUIRED', 'at least one concern is required');
  if (input.concerns == null) c.fail('concerns', 'REQUIRED', 'concerns is required');
  const firstReportedAt = c.instant('firstReportedAt', input.firstReportedAt, { required: true, notAfter });
  const lastReportedAt = c.instant('lastReportedAt', input.lastReportedAt, { required: true, notAfter });
  if (firstReportedAt && lastReportedAt && firstReportedAt > lastReportedAt)
    c.fail('firstReportedAt', 'TIME_ORDER', 'firstReportedAt is after lastReportedAt');
  const active = c.required('active', input.active);
  const grading = checkGrading(c, input.grading, { required: true });
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return {
    ok: true,
    value: {
      ...base!,
      facts: {
        location: location!,
        placeKind: placeKind!,
        firstReportedAt: firstReportedAt!.toISOString(),
        lastReportedAt: lastReportedAt!.toISOString(),
        active: active!,
      },
      assessment: { concerns },
      grading: grading!,
    },
  };
}

export const locationSpec: RecordKindSpec<McxLocationOfConcernInput, LocationContent> = {
  kind: 'location_of_concern',
  schema: LOCATION_SCHEMA,
  check: checkLocationInput,
  index: (content) => ({
    reportedAt: new Date(content.facts.lastReportedAt),
    lat: content.facts.location.lat,
    lon: content.facts.location.lon,
    postcode: content.facts.location.postcode,
    uprn: content.facts.location.uprn,
  }),
};
