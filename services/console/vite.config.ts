import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import react from '@vitejs/plugin-react';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const UNITED_KINGDOM = '826';

/**
 * The outline of Great Britain (and Northern Ireland) from Natural Earth (public domain, via
 * world-atlas), cut out of the world at build time and rounded to about 100 m, so the map needs
 * no tile server and ships a few kilobytes instead of the world.
 */
function gbOutline(): Plugin {
  const id = 'virtual:gb-outline';
  return {
    name: 'mcx-gb-outline',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(resolved) {
      if (resolved !== `\0${id}`) return null;
      const world = JSON.parse(readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8')) as Topology;
      const countries = feature(world, world.objects.countries as GeometryCollection);
      const uk = countries.features.find((f) => String(f.id) === UNITED_KINGDOM);
      if (!uk) throw new Error('world-atlas has no United Kingdom outline');
      const rounded = JSON.stringify(uk.geometry, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v));
      return `export default ${rounded};`;
    },
  };
}

export default defineConfig({
  base: '/console/',
  plugins: [react(), gbOutline()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline script anywhere: the page's policy is script-src 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  css: {
    preprocessorOptions: {
      scss: { quietDeps: true, loadPaths: [require.resolve('govuk-frontend/package.json').replace(/package\.json$/, '')] },
    },
  },
});
