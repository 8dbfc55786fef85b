// The production build: packages/cli/src/main.ts (every command, `mcx node start` and
// `mcx linkage start` included) bundled by esbuild into dist/mcx.mjs, run by plain `node` (no
// tsx). The workspace packages (@mcx/*) are compiled into the bundle; every other package stays
// an import that `npm ci --omit=dev` provides.
//
// Files the code reads at run time beside its source, `new URL('<relative>', import.meta.url)`
// (the migrations, schema/*.graphql, the console's build), are found by their repository path:
// each such URL is rewritten to `./<repository path>` from the bundle and the file or folder is
// copied there (dist/packages/db/migrations, dist/schema, ...), so source and build read the same
// files. Any other `import.meta.url`-relative read would break in the bundle: the build fails on it.
// A worker thread's module (WORKERS: the OPRF's) is compiled as an entry of its own beside the
// bundle, dist/oprf-worker.mjs, and the URL naming it is rewritten to name that.
//
//   node scripts/build-prod.mjs [--outdir dist] [--allow-missing-console]
//
// Writes <outdir>/build-manifest.json: the bare packages the bundle imports and the files copied.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: { outdir: { type: 'string', default: 'dist' }, 'allow-missing-console': { type: 'boolean', default: false } },
});
const OUTDIR = path.resolve(ROOT, args.outdir);
/** The console is served from its build when present; a production build must carry it. */
const CONSOLE_DIST = 'services/console/dist';

/** `new URL('<literal>', import.meta.url)`, the one form of a file read beside the source. */
const ASSET_URL = /new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Worker threads' modules (repository path -> the module's name beside the bundle): each is an
 * entry of its own, and the source's `new URL('<relative>', import.meta.url)` naming it is
 * rewritten to name the compiled module, not copied as a file.
 */
const WORKERS = new Map([['packages/linkage/src/oprf-worker.ts', 'oprf-worker']]);

/** Repository path -> absolute source path, of every file or folder the code reads beside itself. */
const assets = new Map();
/** The bare packages the bundle imports (outside the workspace). */
const externals = new Set();

/** The package name of a bare import: `pino`, `@apollo/server` (from `@apollo/server/plugin/x`). */
const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const workspaceOnly = {
  name: 'workspace-only',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (a.path.startsWith('@mcx/')) return undefined; // compiled in
      if (a.path.startsWith('node:')) return { path: a.path, external: true };
      externals.add(packageName(a.path));
      return { path: a.path, external: true };
    });
  },
};

const assetUrls = {
  name: 'asset-urls',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[tj]s$/ }, (a) => {
      if (a.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = readFileSync(a.path, 'utf8');
      if (!source.includes('import.meta')) return undefined;
      const rewritten = source.replace(ASSET_URL, (_m, _q, rel) => {
        const target = path.resolve(path.dirname(a.path), rel);
        const repoPath = path.relative(ROOT, target).split(path.sep).join('/');
        if (repoPath.startsWith('..')) throw new Error(`${a.path}: ${rel} is outside the repository`);
        const worker = WORKERS.get(repoPath);
        if (worker) return `new URL(${JSON.stringify(`./${worker}.mjs`)}, import.meta.url)`;
        assets.set(repoPath, target);
        return `new URL(${JSON.stringify(`./${repoPath}${rel.endsWith('/') ? '/' : ''}`)}, import.meta.url)`;
      });
      // What is left would resolve against dist/, not against the source file.
      // (createRequire(import.meta.url) resolves packages, which node_modules provides to dist/ as well.)
      const left = rewritten
        .replace(/new URL\(\s*"\.\/[^"]*"\s*,\s*import\.meta\.url\s*\)/g, '')
        .replace(/createRequire\(import\.meta\.url\)/g, '');
      for (const use of ['import.meta.dirname', 'import.meta.filename', 'import.meta.url']) {
        if (left.includes(use))
          throw new Error(
            `${path.relative(ROOT, a.path)} uses ${use} in a way the build cannot carry: read the file through new URL('<relative>', import.meta.url)`,
          );
      }
      return { contents: rewritten, loader: path.extname(a.path).slice(1).replace(/^[cm]/, '') };
    });
  },
};

// The folder is replaced: only a previous build's (or a new or empty one), never the repository or above it.
if (
  !path.relative(OUTDIR, ROOT).startsWith('..') ||
  (existsSync(OUTDIR) && readdirSync(OUTDIR).length > 0 && !existsSync(path.join(OUTDIR, 'build-manifest.json')))
) {
  process.stderr.write(`build-prod: ${OUTDIR} is not a previous build's folder: choose another --outdir\n`);
  process.exit(1);
}
rmSync(OUTDIR, { recursive: true, force: true });
mkdirSync(OUTDIR, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { mcx: 'packages/cli/src/main.ts', ...Object.fromEntries([...WORKERS].map(([source, name]) => [name, source])) },
  outdir: OUTDIR,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  format: 'esm',
  // A command's lazily imported modules (and the packages they import) in chunks of their own,
  // beside the entry, loaded when the command runs: \`mcx --help\` does not load Apollo and Fastify.
  splitting: true,
  // Beside the entry (not in a folder): an asset URL is relative to the file its code ends up in.
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  // The bundle's first line (main.ts's shebang): `mcx` on the PATH can be a link to it.
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  plugins: [workspaceOnly, assetUrls],
});
if (result.errors.length) process.exit(1);

const missing = [];
for (const [repoPath, source] of [...assets].sort()) {
  if (!existsSync(source)) {
    missing.push(repoPath);
    continue;
  }
  cpSync(source, path.join(OUTDIR, repoPath), { recursive: true });
}
for (const repoPath of missing) {
  if (repoPath.replace(/\/$/, '') === CONSOLE_DIST && args['allow-missing-console'])
    process.stderr.write(`build-prod: ${CONSOLE_DIST} is not built; this build serves no console (npm run build:console first)\n`);
  else {
    process.stderr.write(
      `build-prod: ${repoPath} does not exist${repoPath.startsWith(CONSOLE_DIST) ? ' (npm run build:console first)' : ''}\n`,
    );
    process.exit(1);
  }
}
const bundle = path.join(OUTDIR, 'mcx.mjs');
chmodSync(bundle, 0o755);
writeFileSync(
  path.join(OUTDIR, 'build-manifest.json'),
  `${JSON.stringify({ entry: 'mcx.mjs', workers: [...WORKERS.values()].map((w) => `${w}.mjs`), externals: [...externals].sort(), assets: [...assets.keys()].sort() }, null, 2)}\n`,
);
const kb = Math.round(readFileSync(bundle).length / 1024);
process.stdout.write(
  `build-prod: ${path.relative(ROOT, bundle) || bundle} (${kb} KB), ${externals.size} external packages, ${assets.size} asset folders\n`,
);
