import type {
  McxAssociateLinkInput,
  McxPlaceInput,
  McxReturnInterviewInput,
  MissingEpisodeInput,
} from '../../__generated__/resolvers-types.js';
import { checkGrading } from '../records/grading.js';
import { checkLocation } from '../records/location.js';
import { checkBase, type RecordKindSpec, type WriteRules } from '../records/record-kind.js';
import { InputChecker, type Checked } from '../records/validation.js';
import { EPISODE_SCHEMA, type AssociateLink, type EpisodeContent, type Place, type ReturnInterview } from './episode-model.js';

const MAX_REGRADES = 50;
const MAX_ASSOCIATES = 50;

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

function checkAssociates(c: InputChecker, inputs: readonly McxAssociateLinkInput[] | null | undefined, rules: WriteRules): AssociateLink[] {
  const seen = new Set<string>();
  return c.list('associates', inputs, MAX_ASSOCIATES).flatMap((a, i) => {
    const ac = c.nested(`associates.${i}`);
    const owner = a.owner ?? rules.forceCode;
    if (!rules.isKnownOrganisation(owner)) ac.fail('owner', 'UNKNOWN_CODE', 'owner is not a known force or authority code');
    const associateId = ac.uuid('associateId', a.associateId);
    const role = ac.required('role', a.role);
    const dataSubjectCategory = ac.required('dataSubjectCategory', a.dataSubjectCategory);
    if (!associateId || !role || !dataSubjectCategory || !rules.isKnownOrganisation(owner)) return [];
    const key = `${owner}/${associateId}/${role}`;
    if (seen.has(key)) {
      ac.fail('associateId', 'DUPLICATE_ID', 'this associate is already listed with this role');
      return [];
    }
    seen.add(key);
    return [{ owner, associateId, role, dataSubjectCategory }];
  });
}

function checkReturnInterview(
  c: InputChecker,
  input: McxReturnInterviewInput | null | undefined,
  foundAt: Date | undefined,
  notAfter: Date,
): ReturnInterview | null {
  if (!input) return null;
  const r = c.nested('returnInterview');
  const offered = r.required('offered', input.offered);
  const offeredAt = r.instant('offeredAt', input.offeredAt, { required: offered === true, notAfter });
  const completedAt = r.instant('completedAt', input.completedAt, { required: false, notAfter });
  if (offered === false && input.offeredAt != null) r.fail('offeredAt', 'INVALID_STATE', 'offeredAt needs offered: true');
  if (offeredAt && foundAt && offeredAt < foundAt) r.fail('offeredAt', 'TIME_ORDER', 'offeredAt is before foundAt');
  if (completedAt && offeredAt && completedAt < offeredAt) r.fail('completedAt', 'TIME_ORDER', 'completedAt is before offeredAt');
  if (completedAt && !offered) r.fail('completedAt', 'INVALID_STATE', 'an interview cannot be completed without being offered');
  if (completedAt && input.notHeldReason != null)
    r.fail('notHeldReason', 'INVALID_STATE', 'a completed interview has no reason for not being held');
  const themes = [...new Set(r.list('themes', input.themes, 10))].sort();
  if (themes.length > 0 && !completedAt) r.fail('themes', 'INVALID_STATE', 'themes come from a completed interview');
  if (offered === undefined) return null;
  return {
    offered,
    offeredAt: offeredAt?.toISOString() ?? null,
    completedAt: completedAt?.toISOString() ?? null,
    notHeldReason: input.notHeldReason ?? null,
    themes,
  };
}

/**
 * Validates a publisher's episode, returning every problem at once. Times are normalised to
 * UTC ISO strings so that equal content signs to equal bytes.
 */
export function checkEpisodeInput(input: MissingEpisodeInput, rules: WriteRules): Checked<EpisodeContent> {
  const c = new InputChecker();
  const notAfter = new Date(rules.now.getTime() + rules.clockSkewSeconds * 1000);

  const base = checkBase(c, input, rules, { kind: 'episode', from: input.reportedAt, fromField: 'reportedAt' });
  const subjectRef = c.reference('subjectRef', input.subjectRef, { required: true, max: 64 });

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
  if (status === 'OPEN' && input.returnInterview != null)
    c.fail('returnInterview', 'INVALID_STATE', 'a return interview follows the child being found');

  const missingFrom = checkPlace(c, 'missingFrom', input.missingFrom, true);
  const careStatus = c.required('careStatus', input.careStatus);
  let placingAuthority: string | null = null;
  if (input.placingAuthority != null) {
    const code = c.reference('placingAuthority', input.placingAuthority, { required: false, max: 12 });
    if (code && !rules.isKnownAuthority(code)) c.fail('placingAuthority', 'UNKNOWN_CODE', 'placingAuthority is not a known authority code');
    else if (code) placingAuthority = code;
  }
  const foundPlace = checkPlace(c, 'foundPlace', input.foundPlace, false);
  const associates = checkAssociates(c, input.associates, rules);
  const returnInterview = checkReturnInterview(c, input.returnInterview, foundAt, notAfter);
  const grading = checkGrading(c, input.grading, { required: false });

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
      ...base!,
      subjectRef: subjectRef!,
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
        associates,
        returnInterview,
      },
      assessment: { riskGrade: riskGrade!, regrades: regrades.sort((x, y) => x.at.localeCompare(y.at)), indicators },
      grading,
    },
  };
}

export const episodeSpec: RecordKindSpec<MissingEpisodeInput, EpisodeContent> = {
  kind: 'episode',
  schema: EPISODE_SCHEMA,
  check: checkEpisodeInput,
  index: (content) => ({
    subjectRef: content.subjectRef,
    episodeStatus: content.facts.status,
    reportedAt: new Date(content.facts.reportedAt),
    lat: content.facts.foundPlace?.location?.lat ?? null,
    lon: content.facts.foundPlace?.location?.lon ?? null,
    postcode: content.facts.foundPlace?.location?.postcode ?? null,
    uprn: content.facts.foundPlace?.location?.uprn ?? null,
    associateRefs: content.facts.associates.map((a) => `${a.owner}/${a.associateId}`),
  }),
};

/** The input that would publish `record` again: the starting point of an amendment. */
export function episodeToInput(record: EpisodeContent): MissingEpisodeInput {
  const f = record.facts;
  return {
    id: record.id,
    version: record.version,
    ownerReference: record.ownerReference,
    subjectRef: record.subjectRef,
    reviewAt: record.reviewAt,
    status: f.status,
    reportedAt: f.reportedAt,
    lastSeenAt: f.lastSeenAt,
    foundAt: f.foundAt,
    missingFrom: f.missingFrom,
    careStatus: f.careStatus,
    placingAuthority: f.placingAuthority,
    foundPlace: f.foundPlace,
    foundBy: f.foundBy,
    associates: f.associates,
    returnInterview: f.returnInterview,
    assessment: {
      riskGrade: record.assessment.riskGrade === 'ABSENT' ? null : record.assessment.riskGrade,
      regrades: record.assessment.regrades.map((r) => ({ ...r, grade: r.grade === 'ABSENT' ? null : r.grade })),
      indicators: record.assessment.indicators,
    },
    grading: record.grading,
  };
}
