export * from './client.js';
export * from './migrate.js';
export * from './provision.js';
export * from './embedded.js';
export * from './roles.js';
export * from './db-errors.js';
export * from './durability.js';
export * from './sql-arrays.js';
export * as schema from './schema/index.js';
