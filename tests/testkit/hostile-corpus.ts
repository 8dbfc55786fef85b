import { episodeInput } from './episodes.js';

// The hostile corpus of tests/integration/no-echo.test.ts. Each case holds its own synthetic values; `codes` are the extensions.code the answer
// must carry (with the investigator's token; without one, the node refuses before any GraphQL).

export interface HostileRequest {
  label: string;
  /** The synthetic values the request carries, each to be found nowhere afterwards. */
  values: string[];
  method?: 'GET' | 'POST';
  /** A JSON-able body, or raw bytes/text sent as they are. */
  body?: unknown;
  raw?: string | Buffer;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** The code the answer carries when sent with the investigator's token. */
  code: string;
}

export const MATCH = 'query Q($identity: McxChildIdentityInput!) { matchSubjects(identity: $identity) { owner subjectRef } }';
export const PUBLISH_SUBJECT = 'mutation P($input: McxSubjectInput!) { publishSubject(input: $input) { errors { field code } } }';
export const PUBLISH_EPISODE = 'mutation E($input: MissingEpisodeInput!) { publishEpisode(input: $input) { errors { field code } } }';
export const match = (identity: unknown) => ({ query: MATCH, variables: { identity } });

/** The corpus, with the synthetic values of one round (A: measured; W: the warm-up before the baseline). */
export function corpus(round: 'A' | 'W'): HostileRequest[] {
  const name = (n: number) => `Zebedee${round}${String(n).padStart(2, '0')}`;
  const nhs = (n: number) => `999000${round === 'A' ? 1 : 2}${String(n).padStart(3, '0')}`;
  const dob = round === 'A' ? 20110514 : 20110515;
  return [
    // Wrong types, arrays, objects and numbers in variables.
    { label: 'a name in an array for a String', values: [name(1)], body: match({ forename: [name(1)] }), code: 'BAD_USER_INPUT' },
    { label: 'an NHS number as a JSON number', values: [nhs(2)], body: match({ nhsNumber: Number(nhs(2)) }), code: 'BAD_USER_INPUT' },
    { label: 'a date of birth as a number', values: [String(dob)], body: match({ forename: 'Ann', dob }), code: 'BAD_USER_INPUT' },
    { label: 'a name as a bad enum value', values: [name(4)], body: match({ sex: name(4) }), code: 'BAD_USER_INPUT' },
    { label: 'a name in an object for an enum', values: [name(5)], body: match({ sex: { forename: name(5) } }), code: 'BAD_USER_INPUT' },
    { label: 'a name where an input object belongs', values: [name(6)], body: match(name(6)), code: 'BAD_USER_INPUT' },
    {
      label: 'an array of identities',
      values: [name(7), nhs(7)],
      body: match([{ forename: name(7), nhsNumber: nhs(7) }]),
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name in an unknown input field',
      values: [name(8)],
      body: match({ forename: 'Ann', middleName: name(8) }),
      code: 'BAD_USER_INPUT',
    },
    { label: 'a name as an unknown input field', values: [name(9)], body: match({ [name(9)]: 'x' }), code: 'BAD_USER_INPUT' },
    { label: 'a name after a ";" in a bad value', values: [name(10)], body: match({ sex: `FEMALE; ${name(10)}` }), code: 'BAD_USER_INPUT' },
    { label: 'a name after a ";" in an array', values: [name(11)], body: match({ forename: [`a"; ${name(11)}`] }), code: 'BAD_USER_INPUT' },
    { label: 'a name in an array for an enum', values: [name(12)], body: match({ sex: [name(12)] }), code: 'BAD_USER_INPUT' },
    { label: 'a name in nested arrays', values: [name(13)], body: match({ forename: [['x', [name(13)]]] }), code: 'BAD_USER_INPUT' },
    {
      label: 'an NHS number for an Int',
      values: [nhs(14)],
      body: { query: PUBLISH_EPISODE, variables: { input: { ...episodeInput(), version: Number(nhs(14)) } } },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'an NHS number as a float for an Int',
      values: [`${nhs(15)}.5`],
      body: { query: PUBLISH_EPISODE, variables: { input: { ...episodeInput(), version: Number(`${nhs(15)}.5`) } } },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name for a DateTime',
      values: [name(16)],
      body: { query: PUBLISH_EPISODE, variables: { input: { ...episodeInput(), reportedAt: name(16) } } },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'an NHS number for a Date',
      values: [nhs(17)],
      body: { query: PUBLISH_SUBJECT, variables: { input: { subjectRef: 'S-1', reviewAt: nhs(17), identity: { forename: 'Ann' } } } },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name in a nested input object enum',
      values: [name(18)],
      body: {
        query: PUBLISH_EPISODE,
        variables: { input: { ...episodeInput(), missingFrom: { kind: name(18), location: { postcode: 'B15 2TT' } } } },
      },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name deep in a nested input object',
      values: [name(19)],
      body: {
        query: PUBLISH_EPISODE,
        variables: { input: { ...episodeInput(), assessment: { riskGrade: 'HIGH', indicators: ['CSE', name(19)], regrades: [] } } },
      },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name in a nested identity (subject)',
      values: [name(20), nhs(20)],
      body: {
        query: PUBLISH_SUBJECT,
        variables: { input: { subjectRef: 'S-1', identity: { forename: name(20), nhsNumber: nhs(20), sex: 'F' } } },
      },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'an over-long name in a bad enum',
      values: [name(21)],
      body: match({ sex: `${name(21)}${'x'.repeat(20_000)}` }),
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'an over-long name in a String',
      values: [name(22)],
      body: match({ forename: `${name(22)}${'y'.repeat(50_000)}` }),
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name for a required variable given null',
      values: [name(23)],
      body: { query: MATCH, variables: { identity: null, spare: name(23) } },
      code: 'BAD_USER_INPUT',
    },
    // The document: syntax errors, literals, names of operations, variables, fragments, directives.
    {
      label: 'an unterminated string',
      values: [name(24)],
      body: { query: `{ matchSubjects(identity: {forename: "${name(24)}` },
      code: 'GRAPHQL_PARSE_FAILED',
    },
    {
      label: 'an unexpected name token',
      values: [name(25)],
      body: { query: `query Q ${name(25)} { nodeForce }` },
      code: 'GRAPHQL_PARSE_FAILED',
    },
    {
      label: 'a bad escape in a string',
      values: [name(26)],
      body: { query: `{ matchSubjects(identity: {forename: "${name(26)}\\u12G4"}) { owner } }` },
      code: 'GRAPHQL_PARSE_FAILED',
    },
    {
      label: 'a broken document ending in a name',
      values: [name(27)],
      body: { query: `{ matchSubjects(identity: {forename: ${name(27)}` },
      code: 'GRAPHQL_PARSE_FAILED',
    },
    {
      label: 'a name in an array literal for a String',
      values: [name(28)],
      body: { query: `{ matchSubjects(identity: { forename: ["${name(28)}"] }) { owner } }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as an enum literal',
      values: [name(29)],
      body: { query: `{ matchSubjects(identity: { sex: ${name(29)} }) { owner } }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as a string for an enum literal',
      values: [name(30)],
      body: { query: `{ matchSubjects(identity: { sex: "${name(30)}" }) { owner } }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as an unknown literal field',
      values: [name(31)],
      body: { query: `{ matchSubjects(identity: { ${name(31)}: "x" }) { owner } }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'an NHS number literal for a String',
      values: [nhs(32)],
      body: { query: `{ matchSubjects(identity: { nhsNumber: ${nhs(32)} }) { owner } }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    { label: 'a name as a field', values: [name(33)], body: { query: `{ ${name(33)} }` }, code: 'GRAPHQL_VALIDATION_FAILED' },
    {
      label: 'a name as an argument',
      values: [name(34)],
      body: { query: `{ nodeForce(${name(34)}: 1) }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as an operation name asked for',
      values: [name(35)],
      body: { query: '{ nodeForce }', operationName: name(35) },
      code: 'OPERATION_RESOLUTION_FAILURE',
    },
    {
      label: 'a name as a duplicated operation name',
      values: [name(36)],
      body: { query: `query ${name(36)} { nodeForce } query ${name(36)} { nodeForce }`, operationName: name(36) },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as a variable name with a bad value',
      values: [name(37), nhs(37)],
      body: {
        query: `query Q($${name(37)}: McxChildIdentityInput!) { matchSubjects(identity: $${name(37)}) { owner } }`,
        variables: { [name(37)]: { nhsNumber: Number(nhs(37)) } },
      },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name as a variable name not provided',
      values: [name(38)],
      body: { query: `query Q($${name(38)}: McxChildIdentityInput!) { matchSubjects(identity: $${name(38)}) { owner } }` },
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'a name as an unused variable',
      values: [name(39)],
      body: { query: `query Q($${name(39)}: String) { nodeForce }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as an undefined variable',
      values: [name(40)],
      body: { query: `{ matchSubjects(identity: $${name(40)}) { owner } }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as a variable type',
      values: [name(41)],
      body: { query: `query Q($v: ${name(41)}) { nodeForce }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as a fragment name',
      values: [name(42)],
      body: { query: `fragment ${name(42)} on Query { nodeForce } { nodeForce }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as a directive',
      values: [name(43)],
      body: { query: `{ nodeForce @${name(43)} }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as a type condition',
      values: [name(44)],
      body: { query: `{ ... on ${name(44)} { nodeForce } }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a name as an alias of a refused field',
      values: [name(45)],
      body: { query: `{ ${name(45)}: nodeStatus { force } }` },
      code: 'FORBIDDEN',
    },
    {
      label: 'a name as a duplicated variable name',
      values: [name(46)],
      body: { query: `query Q($${name(46)}: String, $${name(46)}: String) { nodeForce }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    // The HTTP request itself: headers, bytes, the shape of the body.
    {
      label: 'a name as the case reference header',
      values: [name(47)],
      body: match({ forename: 'Ann' }),
      headers: { 'x-mcx-case-ref': name(47) },
      code: 'FORBIDDEN',
    },
    {
      label: 'an NHS number as the case reference header',
      values: [nhs(48)],
      body: match({ forename: 'Ann' }),
      headers: { 'x-mcx-case-ref': nhs(48) },
      code: 'FORBIDDEN',
    },
    {
      label: 'a name as the purpose header',
      values: [name(49)],
      body: match({ forename: 'Ann' }),
      headers: { 'x-mcx-purpose': name(49) },
      code: 'FORBIDDEN',
    },
    {
      label: 'invalid UTF-8 bytes in a value',
      values: [name(50)],
      raw: Buffer.concat([
        Buffer.from(`{"query":${JSON.stringify(MATCH)},"variables":{"identity":{"sex":"${name(50)}`),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}}}'),
      ]),
      code: 'BAD_USER_INPUT',
    },
    {
      label: 'invalid UTF-8 bytes in the document',
      values: [name(51)],
      raw: Buffer.concat([
        Buffer.from(`{"query":"{ matchSubjects(identity: {forename: ${name(51)}`),
        Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]),
        Buffer.from('}) { owner } }"}'),
      ]),
      code: 'GRAPHQL_PARSE_FAILED',
    },
    {
      label: 'a body that is not JSON',
      values: [name(52)],
      raw: `{"query": "{ nodeForce }", "variables": {"identity": ${name(52)}}`,
      code: 'BAD_REQUEST',
    },
    {
      label: 'variables as a JSON string',
      values: [name(53)],
      body: { query: MATCH, variables: JSON.stringify({ identity: { forename: name(53) } }) },
      code: 'BAD_REQUEST',
    },
    { label: 'the query as an array', values: [name(54)], body: { query: [name(54)] }, code: 'BAD_REQUEST' },
    {
      label: 'the operation name as an object',
      values: [name(55)],
      body: { query: '{ nodeForce }', operationName: { name: name(55) } },
      code: 'BAD_REQUEST',
    },
    {
      label: 'a GET with a name in the query',
      values: [name(56)],
      method: 'GET',
      query: { query: `{ matchSubjects(identity: { sex: ${name(56)} }) { owner } }` },
      headers: { 'apollo-require-preflight': 'true' },
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      label: 'a GET with a name in broken variables',
      values: [name(57)],
      method: 'GET',
      query: { query: MATCH, variables: `{"identity":{"forename":${name(57)}` },
      headers: { 'apollo-require-preflight': 'true' },
      code: 'BAD_REQUEST',
    },
    {
      label: 'a body over the size limit',
      values: [name(58)],
      body: match({ forename: `${name(58)}${'z'.repeat(5 * 1024 * 1024)}` }),
      code: 'PAYLOAD_TOO_LARGE',
    },
  ];
}
