import { describe, expect, it } from 'vitest';

import { httpStatusReason } from './federation-errors.js';

describe('httpStatusReason', () => {
  it('names a listed status exactly and any other by its class', () => {
    expect([302, 401, 503].map(httpStatusReason)).toEqual(['HTTP_302', 'HTTP_401', 'HTTP_503']);
    expect([103, 399, 418, 599].map(httpStatusReason)).toEqual(['HTTP_1XX', 'HTTP_3XX', 'HTTP_4XX', 'HTTP_5XX']);
  });

  it('reports a status outside 1xx to 5xx as a server error', () => {
    expect([0, 600, 999].map(httpStatusReason)).toEqual(['HTTP_5XX', 'HTTP_5XX', 'HTTP_5XX']);
  });
});
