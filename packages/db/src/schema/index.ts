export * from './records.js';
export * from './reference.js';
export * from './federation.js';
export * from './audit.js';
export * from './linkage.js';
