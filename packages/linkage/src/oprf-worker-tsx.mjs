// Run from the sources only (tsx, the tests): piscina's worker thread loads oprf-worker.ts through
// this file, which registers tsx in that thread first. A worker thread does not take its parent's
// tsx loader, and `--import tsx` in its execArgv is not run on Node 20. The production build
// compiles oprf-worker.ts into a module of its own instead (scripts/build-prod.mjs).
import { register } from 'tsx/esm/api';

register();
const { default: runOprfTask } = await import('./oprf-worker.ts');
export default runOprfTask;
