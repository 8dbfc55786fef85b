import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createLogger, errorSummary } from './index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ destination, level: 'debug' }) };
}

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CodedError';
  }
}

describe('logger redaction', () => {
  it('censors personal fields at any listed depth', () => {
    const { lines, logger } = capture();
    logger.info(
      { forename: 'Olivia', input: { surname: 'Hartwell', dob: '2009-04-02' }, a: { b: { nhsNumber: '9990001112' } } },
      'publish',
    );
    const out = lines.join('');
    expect(out).not.toMatch(/Olivia|Hartwell|2009-04-02|9990001112/);
    expect(out).toContain('[redacted]');
  });

  it("censors personal fields at every depth pino writes, in arrays too, without touching the caller's objects", () => {
    const { lines, logger } = capture();
    const fields = {
      a: { b: { c: { d: { forename: 'Olivia', e: { surname: 'Hartwell' } } } } },
      list: [{ pncId: '11/123456X' }, 'kept', [{ phone: '07700900123' }]],
      identity: { anything: 'Tallulah' },
      keep: { force: 'GMP' },
    };
    const before = structuredClone(fields);
    logger.info(fields, 'deep');
    const out = lines.join('');
    expect(out).not.toMatch(/Olivia|Hartwell|11\/123456X|07700900123|Tallulah/);
    const line = JSON.parse(out) as Record<string, unknown>;
    expect(line).toMatchObject({
      identity: '[redacted]',
      keep: { force: 'GMP' },
      list: [{ pncId: '[redacted]' }, 'kept', [{ phone: '[redacted]' }]],
    });
    expect(fields).toEqual(before);
  });

  it("censors a child logger's bindings, and its children's", () => {
    const { lines, logger } = capture();
    const child = logger.child({ force: 'GMP', dob: '2011-05-14' });
    const grandchild = child.child({ requestId: 'r1', nested: { vehicleReg: 'AB12CDE' } });
    grandchild.info({ nhsNumber: '9990001112' }, 'bound');
    const out = lines.join('');
    expect(out).not.toMatch(/2011-05-14|AB12CDE|9990001112/);
    expect(JSON.parse(out)).toMatchObject({ force: 'GMP', requestId: 'r1', dob: '[redacted]', nested: { vehicleReg: '[redacted]' } });
  });

  it('writes an object nested past the depth limit as "[...]", never its content', () => {
    const { lines, logger } = capture();
    logger.info({ a: { b: { c: { d: { e: { f: { g: { value: 'Tallulah' } } } } } } } }, 'too deep');
    expect(lines.join('')).not.toContain('Tallulah');
    expect(lines.join('')).toContain('[...]');
  });

  // graphql-js quotes a bad variable's value in its message, and no pattern finds every value in
  // it (after a ";", in an array, as a number): a logged error keeps its type, code and frames only.
  it.each([
    ['a quoted value', 'Variable "$input" got invalid value "Olivia Hartwell" at "input.lastSeenAt"; Expected type "DateTime".'],
    [
      'a value in an array',
      'Variable "$identity" got invalid value ["Tallulah"] at "identity.forename"; String cannot represent a non string value: ["Tallulah"]',
    ],
    ['a value after a ";"', 'Variable "$x" got invalid value { "forename": "a; b" }; Tallulah; Expected type "String".'],
    [
      'a number',
      'Variable "$identity" got invalid value 9990001112 at "identity.nhsNumber"; String cannot represent a non string value: 9990001112',
    ],
    ['a value that looks like a stack frame', 'bad input\n    at Tallulah (9990001112)'],
  ])('an error message with %s never reaches a log line', (_label, message) => {
    const { lines, logger } = capture();
    logger.error({ err: new CodedError('BAD_USER_INPUT', message, { cause: new TypeError(message) }) }, 'failed');
    const out = lines.join('');
    expect(out).not.toMatch(/Olivia|Tallulah|9990001112/);
    const line = JSON.parse(out) as {
      msg: string;
      err: { type: string; code: string; frames: string[]; cause: { type: string; frames: string[] } };
    };
    expect(line.msg).toBe('failed');
    expect(line.err).toMatchObject({ type: 'CodedError', code: 'BAD_USER_INPUT', cause: { type: 'TypeError' } });
    expect(line.err.frames.length).toBeGreaterThan(0);
    expect(line.err.frames.every((f) => f.startsWith('at '))).toBe(true);
    expect(line.err.frames[0]).toContain('index.test.ts');
  });

  it('keeps the codes and database object names of an error, and the locations of a GraphQL error', () => {
    const pg = Object.assign(new Error('invalid input syntax for type uuid: "Tallulah"'), {
      code: '22P02',
      routine: 'string_to_uuid',
      table_name: 'record_heads',
      detail: 'Key (id)=(Tallulah)',
    });
    expect(errorSummary(pg)).toMatchObject({ type: 'Error', code: '22P02', routine: 'string_to_uuid', table_name: 'record_heads' });
    expect(JSON.stringify(errorSummary(pg))).not.toContain('Tallulah');
    const graphql = Object.assign(new Error('Syntax Error: Unterminated string.'), {
      name: 'GraphQLError',
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      locations: [{ line: 1, column: 30 }],
    });
    expect(errorSummary(graphql)).toMatchObject({
      type: 'GraphQLError',
      code: 'GRAPHQL_PARSE_FAILED',
      locations: [{ line: 1, column: 30 }],
    });
    expect(errorSummary('Tallulah')).toEqual({ type: 'string' });
  });

  it('an error changed after its stack was made keeps no frames that could be its old message', () => {
    const err = new Error('first');
    void err.stack;
    err.message = 'Tallulah\n    at Bramwell';
    expect(JSON.stringify(errorSummary(err))).not.toMatch(/Tallulah|Bramwell/);
  });
});
