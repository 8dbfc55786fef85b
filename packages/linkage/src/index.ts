export * from './identity.js';
export { NORMALISATION_VERSION, canonicalForenames, foldText, nameTokens, normaliseNamePart, phoneticCode } from './normalise.js';
export { NICKNAME_TABLE } from './nicknames.js';
export * from './keys.js';
export * from './match.js';
export * from './oprf-client.js';
export * from './oprf-server.js';
export * from './synthetic.js';
export * from './http-evaluator.js';
