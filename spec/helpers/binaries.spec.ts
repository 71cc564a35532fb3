import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinary, missingMessage } from '../../scripts/prereqs.js';
import { requireBinary } from './binaries.js';

// The "cannot install" case, simulated: a PATH that holds node and nothing else (so neither chromium nor redis-server
// nor apt-get), and PREREQS_NO_INSTALL=1 so apt-get is never tried even as root. Then `npm test`'s pretest says what
// to install, and the suites that need them skip with that message; with CI=true they fail instead.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bare = mkdtempSync(join(tmpdir(), 'prereqs-path-'));
symlinkSync(process.execPath, join(bare, 'node'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

const SUITES = [
  'spec/docs/svg-render.spec.ts',
  'spec/examples/browser.spec.ts',
  'spec/redis/redisTokenBucketStore.spec.ts',
];

function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // from scratch, so the outer run's CI, CHROMIUM, REDIS_SERVER and VITEST variables do not leak in
  return { PATH: bare, HOME: process.env['HOME'] ?? tmpdir(), TMPDIR: tmpdir(), NO_COLOR: '1', ...extra };
}

function node(args: readonly string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const vitest = (env: NodeJS.ProcessEnv) =>
  node(
    [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--typecheck.enabled=false', '--reporter=verbose', ...SUITES],
    env,
  );

describe('finding a binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prereqs-bin-'));
  const fake = join(dir, 'redis-server');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('looks on PATH, and $REDIS_SERVER / $CHROMIUM name it instead', () => {
    expect(findBinary('redis-server', { PATH: `/nonexistent:${dir}` })).toBe(fake);
    expect(findBinary('redis-server', { PATH: bare })).toBeUndefined();
    expect(findBinary('redis-server', { PATH: dir, REDIS_SERVER: join(dir, 'missing') })).toBeUndefined();
    expect(findBinary('chromium', { PATH: bare, CHROMIUM: fake })).toBe(fake);
  });

  it('a file that is not executable does not count', () => {
    chmodSync(fake, 0o644);
    try {
      expect(findBinary('redis-server', { PATH: dir })).toBeUndefined();
    } finally {
      chmodSync(fake, 0o755);
    }
  });

  it('with CI=true a missing binary throws the message instead of skipping', () => {
    expect(() => requireBinary('chromium', { PATH: bare, CI: 'true' })).toThrow(
      `${missingMessage('chromium')} CI is set, so this fails instead of skipping.`,
    );
  });
});

describe('installation possible (root, apt-get on PATH)', () => {
  // A stand-in apt-get first on PATH: it logs its arguments and "installs" each package as an executable in `bin`.
  it.runIf(process.getuid?.() === 0)('the pretest step installs what is missing with apt-get, and only that', () => {
    const fakes = mkdtempSync(join(tmpdir(), 'prereqs-apt-'));
    try {
      const log = join(fakes, 'apt.log');
      const script = [
        '#!/bin/sh',
        `echo "$*" >> '${log}'`,
        'if [ "$1" = install ]; then',
        '  for p in "$@"; do case "$p" in chromium|redis-server)',
        `    printf '#!/bin/sh\\n' > '${fakes}/'"$p"; /bin/chmod 755 '${fakes}/'"$p";;`,
        '  esac; done',
        'fi',
      ].join('\n');
      writeFileSync(join(fakes, 'apt-get'), `${script}\n`);
      chmodSync(join(fakes, 'apt-get'), 0o755);
      const { status, output } = node(
        [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/prereqs.ts'],
        bareEnv({ PATH: `${fakes}:${bare}` }),
      );
      expect(status, output).toBe(0);
      expect(readFileSync(log, 'utf8')).toBe(
        'update -qq\ninstall -y -qq --no-install-recommends chromium redis-server\n',
      );
      expect(output).toContain('prereqs: chromium and redis-server are available');
    } finally {
      rmSync(fakes, { recursive: true, force: true });
    }
  });

  it.runIf(process.getuid?.() !== 0)('not root: the pretest step says so and installs nothing', () => {
    const { output } = node([join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/prereqs.ts'], bareEnv());
    expect(output).toContain('prereqs: cannot install with apt-get (not running as root)');
  });
});

describe('installation impossible (PATH without the binaries, PREREQS_NO_INSTALL=1)', () => {
  it('the pretest step says exactly what to install, runs no apt-get, and does not fail', () => {
    const { status, output } = node(
      [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/prereqs.ts'],
      bareEnv({ PREREQS_NO_INSTALL: '1' }),
    );
    expect(status).toBe(0);
    expect(output).toContain('prereqs: cannot install with apt-get (PREREQS_NO_INSTALL is set)');
    expect(output).toContain(`prereqs: ${missingMessage('chromium')} Until then they will be skipped.`);
    expect(output).toContain(`prereqs: ${missingMessage('redis-server')} Until then they will be skipped.`);
    expect(output).not.toContain('prereqs: apt-get');
  });

  it('the suites that need chromium or redis-server skip with the message, and the run passes', () => {
    const { status, output } = vitest(bareEnv({ PREREQS_NO_INSTALL: '1' }));
    expect(output).toContain(`[skipped: ${missingMessage('chromium')}]`);
    expect(output).toContain(`[skipped: ${missingMessage('redis-server')}]`);
    expect(output).toMatch(/Tests\s+(\d+) skipped \(\1\)/); // every test of the three files skipped, none failed
    expect(status, output).toBe(0);
  }, 120_000);

  it('with CI=true the same suites fail, with the message', () => {
    const { status, output } = vitest(bareEnv({ PREREQS_NO_INSTALL: '1', CI: 'true' }));
    expect(output).toContain(`${missingMessage('chromium')} CI is set, so this fails instead of skipping.`);
    expect(output).toContain(`${missingMessage('redis-server')} CI is set, so this fails instead of skipping.`);
    expect(output).toMatch(/Test Files\s+3 failed \(3\)/); // each file fails at collection
    expect(status).toBe(1);
  }, 120_000);
});
