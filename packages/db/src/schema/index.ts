export * from './records.js';
export * from './reference.js';
