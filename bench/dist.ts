/**
 * The bench measures the package as it ships: `rxjs-backpressure` resolved through package.json `exports` to the
 * built dist/, never src/ compiled by a loader (tsx compiles class fields and names differently from tsup, which made
 * earlier figures artefacts of the loader).
 *
 * - `ensureFreshDist()` (bench/index.ts, before any bench file is loaded): rebuilds dist/ with `npm run build` when it
 *   is missing or older than an input of the build, and says which; `BENCH_NO_BUILD=1` makes a stale dist/ an error
 *   instead.
 * - `assertShipped(exports)` (bench/harness.ts, so also a bench file run on its own): throws unless 'rxjs-backpressure'
 *   resolved to dist/index.js, dist/ is fresh, and the code that runs is dist/'s text verbatim.
 * This module does not import the library itself: bench/index.ts uses it before dist/ may exist.
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
/** What `npm run build` (tsup) reads. */
const buildInputs = ['src', 'tsup.config.ts', 'tsconfig.build.json', 'tsconfig.json'];
const RUN = 'npm run bench (or node --expose-gc --import ./bench/tsx-dist.mjs bench/<file>.bench.ts)';

function newestFile(path: string): { path: string; mtime: number } | undefined {
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  if (!stat.isDirectory()) return { path, mtime: stat.mtimeMs };
  let newest: { path: string; mtime: number } | undefined;
  for (const entry of readdirSync(path)) {
    const found = newestFile(join(path, entry));
    if (found && (!newest || found.mtime > newest.mtime)) newest = found;
  }
  return newest;
}

export interface DistState {
  fresh: boolean;
  /** Oldest mtime of dist/*.js (the ESM files the bench loads), or undefined when dist/index.js is missing. */
  builtAt?: number;
  newestInput: { path: string; mtime: number };
}

export function distState(): DistState {
  let newestInput = { path: 'src', mtime: 0 };
  for (const input of buildInputs) {
    const found = newestFile(join(root, input));
    if (found && found.mtime > newestInput.mtime) newestInput = found;
  }
  newestInput = { ...newestInput, path: relative(root, newestInput.path) };
  if (!existsSync(join(dist, 'index.js'))) return { fresh: false, newestInput };
  const builtAt = Math.min(
    ...readdirSync(dist)
      .filter((f) => f.endsWith('.js'))
      .map((f) => statSync(join(dist, f)).mtimeMs),
  );
  return { fresh: builtAt >= newestInput.mtime, builtAt, newestInput };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function describe(state: DistState): string {
  return state.builtAt === undefined
    ? 'dist/index.js is missing'
    : `dist/ built ${iso(state.builtAt)}, ${state.fresh ? 'newer than' : 'OLDER than'} ${state.newestInput.path} ` +
        `(${iso(state.newestInput.mtime)}, the newest input of the build)`;
}

/** Rebuilds dist/ if it is stale (or refuses, with BENCH_NO_BUILD=1); prints what is benched. */
export function ensureFreshDist(): void {
  let state = distState();
  if (!state.fresh) {
    if (process.env['BENCH_NO_BUILD'] === '1') throw new Error(`bench: ${describe(state)}; run npm run build`);
    console.log(`bench: ${describe(state)}: running npm run build`);
    execSync('npm run build', { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    state = distState();
    if (!state.fresh) throw new Error(`bench: after npm run build, ${describe(state)}`);
  }
  console.log(`bench: benching the shipped build, ${describe(state)}`);
}

/** Throws unless this process runs dist/ as built and fresh; `shipped` is the module 'rxjs-backpressure'. */
export function assertShipped(shipped: Record<string, unknown>): void {
  const resolved = fileURLToPath(import.meta.resolve('rxjs-backpressure'));
  if (resolved !== join(dist, 'index.js')) {
    throw new Error(
      `bench: 'rxjs-backpressure' resolved to ${relative(root, resolved)}, not dist/index.js ` +
        `(tsx with the root tsconfig maps it to src/); run ${RUN}`,
    );
  }
  const state = distState();
  if (!state.fresh) throw new Error(`bench: ${describe(state)}; run npm run build, or ${RUN}`);
  // No loader between dist/ and V8: the functions that run are dist/'s text as written.
  const text = readdirSync(dist)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dist, f), 'utf8'))
    .join('\n');
  for (const [name, value] of Object.entries(shipped)) {
    if (typeof value === 'function' && !text.includes(value.toString())) {
      throw new Error(`bench: ${name} does not run as dist/ has it: a loader transformed the shipped build`);
    }
  }
}

/** Where the figures come from, saved with the results. */
export function provenance(): Record<string, unknown> {
  const state = distState();
  const git = (args: string): string => {
    try {
      return execSync(`git ${args}`, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    module: 'rxjs-backpressure -> dist/index.js',
    distBuiltAt: state.builtAt === undefined ? undefined : iso(state.builtAt),
    commit: git('rev-parse HEAD'),
    srcModified: git('status --porcelain -- src') !== '',
  };
}
