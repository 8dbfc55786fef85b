import type { MissingEpisodeInput, McxPlaceInput } from '../../__generated__/resolvers-types.js';
import { checkLocation } from '../records/location.js';
import { InputChecker, type Checked } from '../records/validation.js';
import type { EpisodeContent, Place } from './episode-model.js';

export interface EpisodeRules {
  now: Date;
  clockSkewSeconds: number;
  /** Is this a children's services authority code we know? */
  isKnownAuthority(code: string): boolean;
}

const MAX_REGRADES = 50;

function checkPlace(c: InputChecker, field: string, input: McxPlaceInput | null | undefined, required: boolean): Place | null {
  if (!input) {
    if (required) c.fail(field, 'REQUIRED', `${field} is required`);
    return null;
  }
  const p = c.nested(field);
  const kind = p.required('kind', input.kind);
  const location = checkLocation(p, input.location, { required: false });
  return kind ? { kind, location } : null;
}

/**
 * Validates a publisher's episode. Returns every problem at once so a force system can fix
 * them together. Times are normalised to UTC ISO strings so equal content signs equally.
 */
export function checkEpisodeInput(input: MissingEpisodeInput, rules: EpisodeRules): Checked<EpisodeContent> {
  const c = new InputChecker();
  const notAfter = new Date(rules.now.getTime() + rules.clockSkewSeconds * 1000);

  const id = c.uuid('id', input.id);
  const version = c.version('version', input.version);
  const ownerReference = c.reference('ownerReference', input.ownerReference, { required: true, max: 40 });
  const subjectRef = c.reference('subjectRef', input.subjectRef, { required: true, max: 64 });
  const reviewAt = c.date('reviewAt', input.reviewAt, { required: true });
  if (reviewAt && reviewAt < rules.now.toISOString().slice(0, 10)) c.fail('reviewAt', 'OUT_OF_RANGE', 'reviewAt is in the past');

  const status = c.required('status', input.status);
  const reportedAt = c.instant('reportedAt', input.reportedAt, { required: true, notAfter });
  const lastSeenAt = c.instant('lastSeenAt', input.lastSeenAt, { required: true, notAfter });
  const foundAt = c.instant('foundAt', input.foundAt, { required: false, notAfter });
  // Late reports are accepted: only "last seen" has to come before the report and the find.
  if (lastSeenAt && reportedAt && lastSeenAt > reportedAt) c.fail('lastSeenAt', 'TIME_ORDER', 'lastSeenAt is after reportedAt');
  if (lastSeenAt && foundAt && lastSeenAt > foundAt) c.fail('lastSeenAt', 'TIME_ORDER', 'lastSeenAt is after foundAt');
  if (status === 'CLOSED' && input.foundAt == null) c.fail('foundAt', 'REQUIRED', 'a CLOSED episode needs foundAt');
  if (status === 'OPEN' && input.foundAt != null) c.fail('foundAt', 'INVALID_STATE', 'an OPEN episode has no foundAt; close it instead');
  if (status === 'OPEN' && input.foundPlace != null) c.fail('foundPlace', 'INVALID_STATE', 'an OPEN episode has no foundPlace');

  const missingFrom = checkPlace(c, 'missingFrom', input.missingFrom, true);
  const careStatus = c.required('careStatus', input.careStatus);
  let placingAuthority: string | null = null;
  if (input.placingAuthority != null) {
    const code = c.reference('placingAuthority', input.placingAuthority, { required: false, max: 12 });
    if (code && !rules.isKnownAuthority(code)) c.fail('placingAuthority', 'UNKNOWN_CODE', 'placingAuthority is not a known authority code');
    else if (code) placingAuthority = code;
  }
  const foundPlace = checkPlace(c, 'foundPlace', input.foundPlace, false);

  const a = c.nested('assessment');
  if (!input.assessment) c.fail('assessment', 'REQUIRED', 'assessment is required');
  const riskGrade = input.assessment ? a.required('riskGrade', input.assessment.riskGrade) : undefined;
  const regrades = a.list('regrades', input.assessment?.regrades, MAX_REGRADES).flatMap((r, i) => {
    const rc = a.nested(`regrades.${i}`);
    const grade = rc.required('grade', r.grade);
    const at = rc.instant('at', r.at, { required: true, notAfter });
    const byRole = rc.required('byRole', r.byRole);
    if (byRole !== undefined && !/^[A-Z][A-Z0-9_]{1,39}$/.test(byRole)) {
      rc.fail('byRole', 'INVALID_FORMAT', 'byRole is a role code such as DUTY_INSPECTOR, never a name');
      return [];
    }
    return grade && at && byRole ? [{ grade, at: at.toISOString(), byRole }] : [];
  });
  const indicators = [...new Set(a.list('indicators', input.assessment?.indicators, 20))].sort();

  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return {
    ok: true,
    value: {
      id: id!,
      version: version!,
      ownerReference: ownerReference!,
      subjectRef: subjectRef!,
      reviewAt: reviewAt!,
      facts: {
        status: status!,
        reportedAt: reportedAt!.toISOString(),
        lastSeenAt: lastSeenAt!.toISOString(),
        foundAt: foundAt ? foundAt.toISOString() : null,
        missingFrom: missingFrom!,
        careStatus: careStatus!,
        placingAuthority,
        foundPlace,
        foundBy: input.foundBy ?? null,
      },
      assessment: {
        riskGrade: riskGrade!,
        regrades: regrades.sort((x, y) => x.at.localeCompare(y.at)),
        indicators,
      },
    },
  };
}
