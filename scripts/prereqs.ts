// What the test suite needs besides node_modules, and `npm test`'s pretest step that brings it up: Debian's chromium
// (the browser example and the marble SVG render, driven by playwright-core, never a downloaded browser) and
// redis-server (the Redis store's integration spec). Missing ones are installed with apt-get when this runs as root
// on a machine with apt-get; otherwise it says what to install, and the suites that need them skip (or, with
// CI=true, fail) with the same message (spec/helpers/binaries.ts).
//
//   npx tsx scripts/prereqs.ts               install what is missing, if it can
//   PREREQS_NO_INSTALL=1 npx tsx scripts/prereqs.ts   only report (never runs apt-get)
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Prerequisite = 'chromium' | 'redis-server';

interface Requirement {
  /** The Debian package that provides it. */
  readonly debian: string;
  /** An environment variable that may name the executable instead of PATH. */
  readonly env: string;
  /** The suites that need it. */
  readonly suites: string;
}

export const PREREQUISITES: Readonly<Record<Prerequisite, Requirement>> = {
  chromium: {
    debian: 'chromium',
    env: 'CHROMIUM',
    suites: 'the browser tests (spec/examples/browser.spec.ts, spec/docs/svg-render.spec.ts)',
  },
  'redis-server': {
    debian: 'redis-server',
    env: 'REDIS_SERVER',
    suites: 'the Redis integration tests (spec/redis/)',
  },
};

type Env = Readonly<Record<string, string | undefined>>;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The executable: `$CHROMIUM` / `$REDIS_SERVER` if set, else the first match on PATH; undefined if there is none. */
export function findBinary(name: Prerequisite, env: Env = process.env): string | undefined {
  const override = env[PREREQUISITES[name].env];
  if (override !== undefined && override !== '') return isExecutable(override) ? resolve(override) : undefined;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The message for a missing prerequisite: what is missing, what needs it, exactly what to install. */
export function missingMessage(name: Prerequisite): string {
  const { debian, env, suites } = PREREQUISITES[name];
  return (
    `${name} not found (not on PATH, $${env} not set): ${suites} need it. ` +
    `Install Debian's ${debian}: \`sudo apt-get install -y ${debian}\` ` +
    `(npm test installs it itself when run as root on a machine with apt-get), or set ${env}=/path/to/${name}.`
  );
}

/** True when the environment says this is CI: then a missing prerequisite fails its suites instead of skipping. */
export function isCI(env: Env = process.env): boolean {
  const ci = env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** apt-get: the first on PATH, else Debian's /usr/bin/apt-get; undefined if there is none. */
function aptGet(env: Env): string | undefined {
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
  return [...dirs.map((dir) => join(dir, 'apt-get')), '/usr/bin/apt-get'].find(isExecutable);
}

/** Why apt-get cannot be used here, or undefined if it can. */
export function cannotInstall(env: Env = process.env): string | undefined {
  if (env['PREREQS_NO_INSTALL'] !== undefined && env['PREREQS_NO_INSTALL'] !== '') return 'PREREQS_NO_INSTALL is set';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
  if (aptGet(env) === undefined) return 'no apt-get on this machine';
  return undefined;
}

function run(command: string, args: readonly string[]): boolean {
  console.log(`prereqs: apt-get ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

/** Installs what is missing when it can; returns the prerequisites still missing afterwards. */
export function bringUp(env: Env = process.env): Prerequisite[] {
  const names = Object.keys(PREREQUISITES) as Prerequisite[];
  const missing = names.filter((name) => findBinary(name, env) === undefined);
  if (missing.length === 0) return [];
  const reason = cannotInstall(env);
  const apt = aptGet(env);
  if (reason === undefined && apt !== undefined) {
    const packages = missing.map((name) => PREREQUISITES[name].debian);
    const installed =
      run(apt, ['update', '-qq']) && run(apt, ['install', '-y', '-qq', '--no-install-recommends', ...packages]);
    if (!installed) console.warn('prereqs: apt-get failed');
  } else {
    console.warn(`prereqs: cannot install with apt-get (${reason})`);
  }
  const still = missing.filter((name) => findBinary(name, env) === undefined);
  const consequence = isCI(env) ? 'CI is set, so they will fail' : 'they will be skipped';
  for (const name of still) console.warn(`prereqs: ${missingMessage(name)} Until then ${consequence}.`);
  return still;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const still = bringUp();
  if (still.length === 0) console.log('prereqs: chromium and redis-server are available');
}
