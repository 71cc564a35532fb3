import { it } from 'vitest';
import { findBinary, isCI, missingMessage } from '../../scripts/prereqs.js';
import type { Prerequisite } from '../../scripts/prereqs.js';

export type { Prerequisite };

/**
 * The path of a system binary a spec needs (`chromium`, `redis-server`), found on PATH or through `$CHROMIUM` /
 * `$REDIS_SERVER`. `npm test` installs them first when it can (scripts/prereqs.ts). When one is missing:
 *
 * - with `CI=true`, this throws, so the spec file fails with the message (CI must run every suite);
 * - otherwise it warns once and registers a test that skips with the message, and returns undefined: the spec skips
 *   its suites with `describe.skipIf(path === undefined)` and its hooks return early.
 *
 * Call it at the top of the spec module.
 */
export function requireBinary(name: Prerequisite, env: Readonly<Record<string, string | undefined>> = process.env) {
  const path = findBinary(name, env);
  if (path !== undefined) return path;
  const message = missingMessage(name);
  if (isCI(env)) throw new Error(`${message} CI is set, so this fails instead of skipping.`);
  console.warn(`skipped: ${message}`);
  it(`needs ${name}`, (context) => context.skip(`skipped: ${message}`));
  return undefined;
}
