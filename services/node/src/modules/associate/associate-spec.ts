import type { McxAgeBand, McxAssociateInput } from '../../__generated__/resolvers-types.js';
import { checkGrading } from '../records/grading.js';
import { checkBase, type RecordKindSpec, type WriteRules } from '../records/record-kind.js';
import { InputChecker, type Checked } from '../records/validation.js';
import { ASSOCIATE_SCHEMA, type AssociateContent } from './associate-model.js';

const CHILD_BANDS: McxAgeBand[] = ['UNDER_13', 'AGE_13_15', 'AGE_16_17'];

/** Validates an associate: minimal descriptors, flags, and a 3x5x2 grading. */
export function checkAssociateInput(input: McxAssociateInput, rules: WriteRules): Checked<AssociateContent> {
  const c = new InputChecker();
  const base = checkBase(c, input, rules);
  if (!input.descriptors) c.fail('descriptors', 'REQUIRED', 'descriptors is required');
  const d = c.nested('descriptors');
  const isChild = input.descriptors ? d.required('isChild', input.descriptors.isChild) : undefined;
  const ageBand = input.descriptors?.ageBand ?? 'UNKNOWN';
  const sex = input.descriptors?.sex ?? 'UNKNOWN';
  if (isChild === true && !CHILD_BANDS.includes(ageBand) && ageBand !== 'UNKNOWN')
    d.fail('ageBand', 'INVALID_STATE', 'a child associate has a child age band');
  if (isChild === false && CHILD_BANDS.includes(ageBand)) d.fail('ageBand', 'INVALID_STATE', 'an adult associate has an adult age band');
  const flags = [...new Set(c.list('flags', input.flags, 3))].sort();
  if (isChild === true && flags.includes('ADULT_OF_CONCERN')) c.fail('flags', 'INVALID_STATE', 'ADULT_OF_CONCERN is for adults');
  if (isChild === false && flags.includes('PEER_ALSO_MISSING')) c.fail('flags', 'INVALID_STATE', 'PEER_ALSO_MISSING is for children');
  const grading = checkGrading(c, input.grading, { required: true });
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return {
    ok: true,
    value: {
      ...base!,
      descriptors: { isChild: isChild!, ageBand, sex },
      assessment: { flags },
      grading: grading!,
    },
  };
}

export const associateSpec: RecordKindSpec<McxAssociateInput, AssociateContent> = {
  kind: 'associate',
  schema: ASSOCIATE_SCHEMA,
  check: checkAssociateInput,
  index: () => ({}),
};
