export {
  IDENTIFIER,
  ROLES,
  ORG_KINDS,
  isRole,
  isOrgKind,
  hasRole,
  type Role,
  type OrgKind,
  type TokenKind,
  type Viewer,
} from './viewer.js';
export {
  DEV_ISSUER,
  ALLOWED_ALGORITHMS,
  IssuerConfigSchema,
  assertValidIssuerConfigs,
  isDevIssuer,
  productionIssuerProblems,
  type AllowedAlgorithm,
  type ClaimMapping,
  type IssuerConfig,
} from './issuers.js';
export { mapRoles, viewerFromClaims } from './claim-mapping.js';
export { TokenErrorCode, isTokenError, mapJoseError } from './token-errors.js';
export { AuthConfigErrorCode, PurposeErrorCode } from './auth-errors.js';
export {
  createTokenVerifier,
  readBearerToken,
  requireUserToken,
  requireClientToken,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
} from './verify-token.js';
export { DEV_TOKEN_TYP, createDevIssuer, devAudience, type DevIssuer, type MintTokenOptions } from './dev-issuer.js';
export {
  PURPOSES,
  DEFAULT_CASE_REF_RULES,
  PURPOSE_HEADER,
  CASE_REF_HEADER,
  PURPOSE_CLAIM,
  CASE_REF_CLAIM,
  isPurpose,
  parseRequestPurpose,
  purposeFromRequest,
  type Purpose,
  type RequestPurpose,
  type CaseRefRules,
  type HeaderSource,
} from './purpose.js';
export { OPERATIONS, can, authorize, assertCanWrite, type Operation, type PolicyContext } from './policy.js';
