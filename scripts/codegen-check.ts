// Regenerates the generated code and fails if it differs from what is committed, so a
// schema change can never ship with stale resolver types or a stale client.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const OUTPUTS = [
  'services/node/src/__generated__/resolvers-types.ts',
  'services/node/src/__generated__/resolver-map-types.ts',
  'packages/client/src/__generated__/graphql.ts',
];
const before = OUTPUTS.map((f) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
});
execFileSync('npx', ['graphql-codegen', '--config', 'schema/codegen.ts', '--silent'], { stdio: 'inherit' });
const stale = OUTPUTS.filter((f, i) => readFileSync(f, 'utf8') !== before[i]);
if (stale.length > 0) {
  process.stderr.write(`Generated code was stale and has been regenerated; commit it:\n${stale.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('generated code is current\n');
