// Builds the console (services/console/dist) when it has not been built, so `npm start` and
// `npm run demo` serve it at /console/. `npm run build` always rebuilds it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (!existsSync(new URL('../dist/index.html', import.meta.url))) {
  process.stdout.write('building the console (services/console/dist)...\n');
  const { build } = await import('vite');
  await build({ root: fileURLToPath(new URL('..', import.meta.url)), logLevel: 'warn' });
}
