import {
  buildSchema,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';

import { describeGraphQLError } from './error-format.js';
import type { SafeError } from './safe-error.js';

// A small schema of the node's shape; every value the tests send is a synthetic name or number.
const schema = buildSchema(`
  enum McxSex { FEMALE MALE OTHER UNKNOWN }
  input McxChildIdentityInput { forename: String surname: String dob: String sex: McxSex nhsNumber: String aliases: [String!] }
  input McxSubjectInput { subjectRef: String! identity: McxChildIdentityInput version: Int }
  type McxSubject { owner: String! subjectRef: String! }
  type Query { matchSubjects(identity: McxChildIdentityInput!): [McxSubject!]! nodeForce: String! }
  type Mutation { publishSubject(input: McxSubjectInput!): McxSubject }
`);
const NEEDLE = /zebedee|9990001/i;

function validationErrors(document: DocumentNode): GraphQLError[] {
  return validate(schema, document, specifiedRules).map(
    (e) => new GraphQLError(e.message, { nodes: e.nodes, originalError: e, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
  );
}

function describeValidation(source: string): SafeError[] {
  const document = parse(source);
  return validationErrors(document).map((e) => describeGraphQLError(e, { schema, document }));
}

function describeVariables(source: string, variables: Record<string, unknown>): SafeError[] {
  const document = parse(source);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  const result = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (!('errors' in result) || !result.errors) return [];
  // As Apollo Server hands them on: BAD_USER_INPUT, the inner error as originalError.
  return result.errors.map((e) =>
    describeGraphQLError(
      new GraphQLError(e.message, { nodes: e.nodes, originalError: e.originalError ?? e, extensions: { code: 'BAD_USER_INPUT' } }),
      { schema, document },
    ),
  );
}

function describeSyntax(source: string): SafeError {
  try {
    parse(source);
  } catch (err) {
    const e = err as GraphQLError;
    return describeGraphQLError(
      new GraphQLError(e.message, {
        source: e.source,
        positions: e.positions,
        originalError: e,
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      }),
      { schema },
    );
  }
  throw new Error('parsed');
}

const MATCH = 'query Q($identity: McxChildIdentityInput!) { matchSubjects(identity: $identity) { owner } }';

describe('describing GraphQL errors from their structure', () => {
  it.each([
    ['an array for a String', { forename: ['ZebedeeU01'] }, 'forename', 'String'],
    ['a number for a String', { nhsNumber: 9990001001 }, 'nhsNumber', 'String'],
    ['an unknown enum value', { sex: 'ZebedeeU02' }, 'sex', 'McxSex'],
    ['a value after a ";"', { sex: 'FEMALE"; ZebedeeU03' }, 'sex', 'McxSex'],
    ['an object for an enum', { sex: { name: 'ZebedeeU04' } }, 'sex', 'McxSex'],
    ['a number in a list of strings', { aliases: ['ok', 9990001002] }, 'aliases[1]', 'String!'],
    ['a value that prints like a path', { forename: ['x at "identity.surname"; ZebedeeU05'] }, 'forename', 'String'],
  ])('a variable with %s: its path and expected type, no value', (_label, identity, field, expected) => {
    const [safe] = describeVariables(MATCH, { identity });
    expect(safe).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_VALUE', variable: 'identity', field, expected, internal: false });
    expect(safe?.message).toBe(
      `Variable "$identity" has an invalid value at "identity.${field.replace(/^([a-z]+)/, '$1')}": expected ${expected}.`,
    );
    expect(JSON.stringify(safe)).not.toMatch(NEEDLE);
  });

  it('a required variable, a null one, an unknown field and a missing required field', () => {
    expect(describeVariables(MATCH, {})[0]).toMatchObject({
      reason: 'VARIABLE_REQUIRED',
      message: 'Variable "$identity" of required type McxChildIdentityInput! was not provided.',
    });
    expect(describeVariables(MATCH, { identity: null })[0]).toMatchObject({
      reason: 'VARIABLE_NULL',
      message: 'Variable "$identity" of non-null type McxChildIdentityInput! must not be null.',
    });
    const unknown = describeVariables(MATCH, { identity: { ZebedeeU06: 'ZebedeeU07' } })[0];
    expect(unknown).toMatchObject({
      reason: 'UNKNOWN_FIELD',
      field: '',
      message: 'Variable "$identity" has an invalid value at "identity": a field that McxChildIdentityInput does not define.',
    });
    const missing = describeVariables('mutation M($input: McxSubjectInput!) { publishSubject(input: $input) { owner } }', {
      input: { identity: { forename: 'ZebedeeU08' } },
    })[0];
    expect(missing).toMatchObject({
      reason: 'REQUIRED_FIELD',
      field: 'subjectRef',
      expected: 'String!',
      message: 'Variable "$input" has an invalid value at "input.subjectRef": a required field of type String! was not provided.',
    });
    const notObject = describeVariables(MATCH, { identity: 'ZebedeeU09' })[0];
    expect(notObject).toMatchObject({
      reason: 'NOT_AN_OBJECT',
      message: 'Variable "$identity" has an invalid value at "identity": expected an input object of type McxChildIdentityInput!.',
    });
    expect(JSON.stringify([unknown, missing, notObject])).not.toMatch(NEEDLE);
  });

  it('a variable named by the caller is known by where it is defined, never by its name', () => {
    const [safe] = describeVariables('query Q($ZebedeeU10: McxChildIdentityInput!) { matchSubjects(identity: $ZebedeeU10) { owner } }', {
      ZebedeeU10: { sex: 9990001003 },
    });
    expect(safe).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_VALUE',
      field: 'sex',
      expected: 'McxSex',
      locations: [{ line: 1, column: 9 }],
      internal: false,
      message: 'The variable defined at line 1, column 9 has an invalid value at "sex": expected McxSex.',
    });
  });

  it.each([
    ['{ ZebedeeU11 }', 'UNKNOWN_FIELD', 'Cannot query a field that type Query does not have (line 1, column 3).'],
    [
      '{ nodeForce(ZebedeeU12: 1) }',
      'UNKNOWN_ARGUMENT',
      'An argument that field Query.nodeForce does not have at "nodeForce" (line 1, column 13).',
    ],
    ['{ ... on ZebedeeU13 { nodeForce } }', 'UNKNOWN_TYPE', 'A type that this schema does not have (line 1, column 10).'],
    ['{ ...ZebedeeU14 }', 'UNKNOWN_FRAGMENT', 'A fragment that the document does not define (line 1, column 6).'],
    ['{ nodeForce @ZebedeeU15 }', 'UNKNOWN_DIRECTIVE', 'A directive that this schema does not have at "nodeForce" (line 1, column 13).'],
    [
      '{ matchSubjects(identity: $ZebedeeU16) { owner } }',
      'UNDEFINED_VARIABLE',
      'A variable that the operation does not define at "matchSubjects.identity" (line 1, column 27).',
    ],
    [
      'query Q($ZebedeeU17: String) { nodeForce }',
      'UNUSED_VARIABLE',
      'A variable that the operation defines but never uses (line 1, column 9).',
    ],
    [
      'query Q($v: String) { matchSubjects(identity: $v) { owner } }',
      'VARIABLE_TYPE_MISMATCH',
      'A variable whose type does not fit where it is used: expected McxChildIdentityInput! (line 1, column 9).',
    ],
    [
      '{ matchSubjects(identity: { sex: ZebedeeU18 }) { owner } }',
      'INVALID_VALUE',
      'A value that is not of the expected type at "matchSubjects.identity.sex": expected McxSex (line 1, column 34).',
    ],
    [
      '{ matchSubjects(identity: { sex: "ZebedeeU19" }) { owner } }',
      'INVALID_VALUE',
      'A value that is not of the expected type at "matchSubjects.identity.sex": expected McxSex (line 1, column 34).',
    ],
    [
      '{ matchSubjects(identity: { aliases: ["a", 9990001004] }) { owner } }',
      'INVALID_VALUE',
      'A value that is not of the expected type at "matchSubjects.identity.aliases[1]": expected String (line 1, column 44).',
    ],
    [
      '{ matchSubjects(identity: { ZebedeeU20: "x" }) { owner } }',
      'UNKNOWN_FIELD',
      'A field that input type McxChildIdentityInput does not define at "matchSubjects.identity" (line 1, column 29).',
    ],
    [
      'mutation { publishSubject(input: { identity: { forename: "ZebedeeU21" } }) { owner } }',
      'REQUIRED_FIELD',
      'The required field McxSubjectInput.subjectRef of type String! was not provided at "publishSubject.input" (line 1, column 34).',
    ],
    [
      '{ matchSubjects { owner } }',
      'REQUIRED_ARGUMENT',
      'The required argument identity (McxChildIdentityInput!) of field matchSubjects was not provided (line 1, column 3).',
    ],
    [
      '{ nodeForce { ZebedeeU22 } }',
      'SELECTION_NOT_ALLOWED',
      'Field nodeForce of type String! has no subfields to select at "nodeForce" (line 1, column 13).',
    ],
    [
      '{ matchSubjects(identity: {}) }',
      'SELECTION_REQUIRED',
      'Field matchSubjects of type [McxSubject!]! needs a selection of subfields (line 1, column 3).',
    ],
    [
      '{ ZebedeeU23: nodeForce ZebedeeU23: matchSubjects(identity: {}) { owner } }',
      'FIELDS_CONFLICT',
      'Two fields with the same response name select different things (line 1, column 3).',
    ],
    [
      'query ZebedeeU24 { nodeForce } query ZebedeeU24 { nodeForce }',
      'DUPLICATE_NAME',
      'There can be only one operation with the same name (line 1, column 7).',
    ],
    [
      'query Q($ZebedeeU25: String, $ZebedeeU25: String) { nodeForce }',
      'DUPLICATE_NAME',
      'There can be only one variable with the same name (line 1, column 10).',
    ],
    ['fragment ZebedeeU26 on Query { nodeForce } { nodeForce }', 'UNUSED_FRAGMENT', 'A fragment that is never used (line 1, column 1).'],
    [
      '{ ...ZebedeeU27 } fragment ZebedeeU27 on Query { ...ZebedeeU27 }',
      'FRAGMENT_CYCLE',
      'A fragment that spreads itself (line 1, column 50).',
    ],
    [
      '{ nodeForce @skip(if: true) @skip(if: true) }',
      'DIRECTIVE_REPEATED',
      'A directive repeated where it may appear only once at "nodeForce" (line 1, column 13).',
    ],
  ])('a validation error for %s: a fixed description, schema names only', (source, reason, message) => {
    const [safe] = describeValidation(source);
    expect(safe).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', reason, message, internal: false });
    expect(JSON.stringify(describeValidation(source))).not.toMatch(NEEDLE);
  });

  it('passes on the limits it configured, which carry only numbers', () => {
    const limit = describeGraphQLError(
      new GraphQLError('Syntax Error: Query depth limit of 10 exceeded, found 12.', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      { schema },
    );
    expect(limit).toMatchObject({ reason: 'LIMIT', message: 'Syntax Error: Query depth limit of 10 exceeded, found 12.' });
  });

  it.each([
    ['{ matchSubjects(identity: {forename: "ZebedeeU30', 'Syntax error at line 1, column 49: a string is not terminated.'],
    ['query Q ZebedeeU31 { nodeForce }', 'Syntax error at line 1, column 9: expected "{".'],
    [
      '{ matchSubjects(identity: {forename: "ZebedeeU32\\u12G4"}) { owner } }',
      'Syntax error at line 1, column 49: a string has an invalid escape sequence.',
    ],
    ['{ nodeForce \u0007 ZebedeeU33 }', 'Syntax error at line 1, column 13: a character that is not allowed here.'],
    ['{ matchSubjects(identity: {forename: ZebedeeU34', 'Syntax error at line 1, column 48: expected Name.'],
    ['{ a(b: 9990001005x) }', 'Syntax error at line 1, column 18: a number is not valid.'],
    ['{ nodeForce(', 'Syntax error at line 1, column 13: expected Name.'],
    ['{ nodeForce(a: ', 'Syntax error at line 1, column 16: the document ends too early.'],
  ])('a syntax error in %j: its position and a fixed description', (source, message) => {
    const safe = describeSyntax(source);
    expect(safe).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED', reason: 'SYNTAX', message });
    expect(JSON.stringify(safe)).not.toMatch(NEEDLE);
  });

  it("the node's own errors keep their fixed message, reason and field; an alias that is not a schema name is hidden", () => {
    const own = new GraphQLError('identity.nhsNumber: NHS number must be 10 digits with a valid modulus 11 check digit', {
      path: ['ZebedeeU40', 0, 'owner'],
      extensions: { code: 'BAD_USER_INPUT', reason: 'NHS_NUMBER_INVALID', field: 'identity.nhsNumber' },
    });
    expect(describeGraphQLError(own, { schema })).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'identity.nhsNumber: NHS number must be 10 digits with a valid modulus 11 check digit',
      reason: 'NHS_NUMBER_INVALID',
      field: 'identity.nhsNumber',
      path: ['(alias)', 0, 'owner'],
      internal: false,
    });
    const graded = new GraphQLError('not disclosable', { extensions: { code: 'FORBIDDEN', reason: 'NOT_DISCLOSABLE:GRADE_E' } });
    expect(describeGraphQLError(graded, { schema })).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_DISCLOSABLE:GRADE_E' });
    const odd = new GraphQLError('refused', { extensions: { code: 'FORBIDDEN', reason: 'ZebedeeU41 said no', field: 'ZebedeeU42' } });
    expect(describeGraphQLError(odd, { schema })).toEqual({ code: 'FORBIDDEN', message: 'refused', internal: false });
  });

  it('anything else is the node’s own fault: INTERNAL_SERVER_ERROR, no message', () => {
    const bug = new GraphQLError('invalid input syntax for type uuid: "ZebedeeU43"', {
      path: ['nodeForce'],
      originalError: new Error('invalid input syntax for type uuid: "ZebedeeU43"'),
    });
    expect(describeGraphQLError(bug, { schema })).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'Internal server error',
      path: ['nodeForce'],
      internal: true,
    });
    expect(describeGraphQLError(new Error('ZebedeeU44'), { schema })).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', internal: true });
    const unknownOperation = new GraphQLError('Unknown operation named "ZebedeeU45".', {
      extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
    });
    expect(describeGraphQLError(unknownOperation, { schema })).toMatchObject({
      reason: 'UNKNOWN_OPERATION',
      message: 'The document has no operation with the name given in operationName.',
    });
    const badRequest = new GraphQLError('some new Apollo message quoting "ZebedeeU46"', { extensions: { code: 'BAD_REQUEST' } });
    expect(describeGraphQLError(badRequest, { schema }).message).toBe('The request is not a valid GraphQL request.');
  });

  it('without the schema nothing the caller wrote is named, and nothing is lost but names', () => {
    const [withSchema] = describeVariables(MATCH, { identity: { sex: 'ZebedeeU47' } });
    const document = parse(MATCH);
    const operation = document.definitions[0] as OperationDefinitionNode;
    const raw = (
      getVariableValues(schema, operation.variableDefinitions ?? [], { identity: { sex: 'ZebedeeU47' } }) as { errors: GraphQLError[] }
    ).errors[0]!;
    const blind = describeGraphQLError(
      new GraphQLError(raw.message, { nodes: raw.nodes, originalError: raw.originalError, extensions: { code: 'BAD_USER_INPUT' } }),
      { schema: null },
    );
    expect(withSchema?.message).toBe('Variable "$identity" has an invalid value at "identity.sex": expected McxSex.');
    expect(blind.message).toBe('The variable defined at line 1, column 9 has an invalid value: the value is not of the expected type.');
    expect(JSON.stringify(blind)).not.toMatch(NEEDLE);
  });
});
