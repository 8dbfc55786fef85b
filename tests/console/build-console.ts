import { fileURLToPath } from 'node:url';

/**
 * vitest globalSetup for the console's browser tests: builds services/console once per run, so
 * the nodes serve what the source says (a fresh clone has no dist; an old one may be stale).
 */
export default async function setup(): Promise<void> {
  const { build } = await import('vite');
  // vitest runs with NODE_ENV=test, which would give React's development build (and its JSX runtime).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: fileURLToPath(new URL('../../services/console/', import.meta.url)), logLevel: 'error' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
