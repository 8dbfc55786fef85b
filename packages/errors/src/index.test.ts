import { describe, expect, it } from 'vitest';

import { isMcxError, McxError } from './index.js';

const ExampleErrorCode = { EXAMPLE_BROKEN: 'EXAMPLE_BROKEN', EXAMPLE_MISSING: 'EXAMPLE_MISSING' } as const;

describe('McxError', () => {
  it('keeps the code, the message and the cause, and is an Error', () => {
    const cause = new Error('underlying');
    const error = new McxError('EXAMPLE_BROKEN', 'it broke', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(McxError);
    expect(error.code).toBe('EXAMPLE_BROKEN');
    expect(error.message).toBe('it broke');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('McxError');
    expect(error.constructor.name).toBe('McxError');
  });

  it('names a subclass after itself', () => {
    class ExampleError extends McxError<'EXAMPLE_BROKEN'> {}
    const error = new ExampleError('EXAMPLE_BROKEN', 'it broke');
    expect(error).toBeInstanceOf(McxError);
    expect(error.name).toBe('ExampleError');
  });
});

describe('isMcxError', () => {
  it('is true for an McxError whose code is a value of the given codes', () => {
    expect(isMcxError(new McxError('EXAMPLE_MISSING', 'gone'), ExampleErrorCode)).toBe(true);
  });

  it('is false for a code of another package, even one sharing the prefix', () => {
    expect(isMcxError(new McxError('EXAMPLE_OTHER', 'other'), ExampleErrorCode)).toBe(false);
    expect(isMcxError(new McxError('FORBIDDEN', 'no'), ExampleErrorCode)).toBe(false);
  });

  it('is false for an inherited key of the object, which is not a declared code', () => {
    expect(isMcxError(new McxError('toString', 'no'), ExampleErrorCode)).toBe(false);
  });

  it('is false for anything that is not an McxError, whatever its code', () => {
    expect(isMcxError(Object.assign(new Error('plain'), { code: 'EXAMPLE_BROKEN' }), ExampleErrorCode)).toBe(false);
    expect(isMcxError({ code: 'EXAMPLE_BROKEN' }, ExampleErrorCode)).toBe(false);
    expect(isMcxError(undefined, ExampleErrorCode)).toBe(false);
  });
});
