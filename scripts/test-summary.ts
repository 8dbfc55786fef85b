// Prints one plain line, `N passed, N failed` (`, N skipped` when some were), from the JSON
// results that `npm test` asks vitest to write, so a run is readable whatever its exit code.
// Exits 1 when the results are missing (the run stopped before vitest) or count a failure.
import { readFileSync } from 'node:fs';

const FILE = process.argv[2] ?? '.test-results/vitest.json';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
}

let results: VitestJson;
try {
  results = JSON.parse(readFileSync(FILE, 'utf8')) as VitestJson;
} catch {
  process.stdout.write(`no test results in ${FILE}: the run stopped before vitest finished (see above)\n`);
  process.exit(1);
}
const skipped = results.numPendingTests + results.numTodoTests;
// A file that fails to load has no failed test, but is a failure all the same.
const failed = results.numFailedTests + (results.numFailedTests === 0 ? results.numFailedTestSuites : 0);
process.stdout.write(`${results.numPassedTests} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
