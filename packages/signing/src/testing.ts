/**
 * For tests only (`@mcx/signing/testing`, never imported by production code): what this package's
 * own tests use to build a JWS by hand, so other packages' tests can sign what a member bent on it
 * would send (a receipt or checkpoint this package's signers refuse) and show that it is refused
 * where it is read.
 */
export { craftJws } from './fixtures/test-helpers.js';
