import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Examples and docs import 'rxjs-backpressure' as a user would, never the source: no module specifier, and no string
// in an example (a path given to a bundler, a URL), reaches into src/.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function filesUnder(dir: string, pattern: RegExp): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'api' ? [] : filesUnder(path, pattern);
    return pattern.test(entry.name) ? [path] : [];
  });
}

/** Every place in `text` (a file at `file`, relative to the repository) that reaches into src/. */
function sourceImports(file: string, text: string): string[] {
  const found: string[] = [];
  const markdown = file.endsWith('.md');
  let fenced = false;
  text.split('\n').forEach((line, index) => {
    // in markdown only the code blocks count (prose names `src/` in code spans)
    if (markdown && /^\s*```/.test(line)) fenced = !fenced;
    if (markdown && !fenced) return;
    for (const m of line.matchAll(markdown ? /(['"])([^'"\n]*)\1/g : /(['"`])([^'"`\n]*)\1/g)) {
      const literal = m[2] ?? '';
      const target = literal.startsWith('.') ? relative(root, resolve(root, dirname(file), literal)) : literal;
      if (/^(?:\.\.\/)*src(?:\/|$)/.test(target) || /(?:^|\/)\.\.\/(?:\.\.\/)*src\//.test(literal)) {
        found.push(`${file}:${index + 1}: ${literal}`);
      }
    }
  });
  return found;
}

const EXAMPLES = filesUnder('examples', /\.(ts|mts|js|mjs|html)$/);
const DOCS = ['README.md', ...filesUnder('docs', /\.md$/)];

describe('examples and docs import the package, never src/', () => {
  it('finds the examples and the docs', () => {
    expect(EXAMPLES).toContain(join('examples', 'browser', 'main.ts'));
    expect(DOCS).toContain(join('docs', 'reference.md'));
  });

  it.each([...EXAMPLES, ...DOCS])('%s', (file) => {
    expect(sourceImports(file, readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });

  it('the check can fail: a relative import of src, an alias to src, a docs snippet importing src', () => {
    expect(sourceImports('examples/x/a.ts', "import { dropOnFull } from '../../src/index.js';")).toEqual([
      "examples/x/a.ts:1: ../../src/index.js",
    ]);
    expect(sourceImports('examples/a.ts', "const x = 1;\nalias: { p: new URL('../src/index.ts', import.meta.url) }")).toEqual([
      'examples/a.ts:2: ../src/index.ts',
    ]);
    expect(sourceImports('docs/a.md', "```ts\nimport { pull } from '../src/demand/pull.js';\n```")).toHaveLength(1);
    expect(sourceImports('examples/a.ts', "import { pull } from 'rxjs-backpressure'; // src/ is not imported")).toEqual([]);
    expect(sourceImports('docs/a.md', "`src/` has no Node-only API\n```ts\nimport { pull } from 'rxjs-backpressure';\n```")).toEqual([]);
  });
});
