/**
 * The published types show the public API only: no `@internal` member (the ports under registered symbols, the error
 * brand) and no `_`-prefixed member. The declarations are built here with the package's own tsup config (the
 * `stripInternal` of tsconfig.build.json), into a temporary directory, so the check sees what `npm run build` ships.
 *
 * The rule that keeps the build working: tag *members* internal (a port under a symbol, a brand), never a top-level
 * declaration of an internal module. stripInternal removes a tagged declaration, and the declaration files of the
 * modules importing it then fail to bundle; untagged, it is simply not exported by any entry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = mkdtempSync(join(tmpdir(), 'rxjs-backpressure-dts-'));
let files: Record<string, string> = {};

beforeAll(() => {
  execFileSync(join(root, 'node_modules/.bin/tsup'), ['--dts-only', '--out-dir', out, '--silent'], {
    cwd: root,
    stdio: 'pipe',
  });
  files = Object.fromEntries(
    readdirSync(out)
      .filter((name) => name.endsWith('.d.ts') || name.endsWith('.d.cts'))
      .map((name) => [name, readFileSync(join(out, name), 'utf8')]),
  );
}, 120_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Lines declaring a member or a const whose name starts with `_`, in declaration text. */
function underscored(text: string): string[] {
  const member = /^\s*(?:(?:private|protected|readonly|static|declare|const)\s+)*_\w*[?(:;]/;
  return text.split('\n').filter((line) => member.test(line));
}

describe('published declarations', () => {
  it('builds the declarations of every entry (the check can see what it checks)', () => {
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['index.d.ts', 'index.d.cts', 'prometheus.d.ts']));
    expect(Object.values(files).join('\n')).toContain('declare class CircuitBreaker');
    expect(underscored('  private _secret;\n  readonly _port: number;\n  ok: 1;')).toHaveLength(2);
  });

  it('have no @internal member, no registered-symbol port and no _ member', () => {
    for (const [name, text] of Object.entries(files)) {
      expect(text, name).not.toContain('@internal');
      expect(underscored(text), name).toEqual([]);
      // the ports and the error brand live under Symbol.for(...) keys that only the package reads
      expect(text, name).not.toMatch(/readonly \[(BREAKER|BRAND|RECORDER|LIMITER|BUDGET)\]/);
    }
  });
});
