/**
 * The standard for the public API: every export has JSDoc; every exported value (function, class, constant) has a
 * summary, a marble diagram (a fenced block that is not code) and an `## Example` with a ```ts block. Read from the
 * entry points with the TypeScript compiler, following re-exports to the declarations, so a new export without docs
 * fails here.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRIES = ['src/index.ts', 'src/prometheus/index.ts', 'src/redis/index.ts', 'src/testing/index.ts'];

interface Export {
  entry: string;
  name: string;
  value: boolean;
  docs: string[];
}

function exportsOf(): Export[] {
  const program = ts.createProgram(
    ENTRIES.map((entry) => join(root, entry)),
    { strict: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const found: Export[] = [];
  for (const entry of ENTRIES) {
    const source = program.getSourceFile(join(root, entry));
    const module = source && checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`${entry}: not a module`);
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.getDeclarations() ?? [];
      const value = (target.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable)) !== 0;
      const docs = declarations.flatMap((declaration) => {
        // a variable's JSDoc sits on its statement
        const owner = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
        return ts.getJSDocCommentsAndTags(owner).map((doc) => doc.getText());
      });
      found.push({ entry, name: symbol.getName(), value, docs });
    }
  }
  return found;
}

const EXPORTS = exportsOf();

describe('every export is documented', () => {
  it('finds the exports of every entry point (the check can see what it checks)', () => {
    const names = EXPORTS.map((e) => e.name);
    for (const name of ['bufferBounded', 'dropOnFull', 'Demand', 'QueueMetrics', 'registerQueueMetrics', 'checkLaws']) {
      expect(names).toContain(name);
    }
    expect(EXPORTS.length).toBeGreaterThan(40);
  });

  for (const { entry, name, value, docs } of EXPORTS) {
    const text = docs.join('\n');
    it(`${entry}: ${name} has JSDoc${value ? ' with a summary, a diagram and an example' : ''}`, () => {
      expect(docs.length, `${name} has no JSDoc`).toBeGreaterThan(0);
      const summary = text.replace(/^\/\*\*\s*/, '').replace(/^\s*\*\s?/gm, '');
      expect(summary.trim().length, `${name}: empty JSDoc`).toBeGreaterThan(10);
      if (!value) return;
      const fences = [...summary.matchAll(/^```(\S*)\s*$/gm)].map((m) => m[1] ?? '');
      // fences come in pairs: opening (with or without a language) and closing (bare)
      const openings = fences.filter((_, i) => i % 2 === 0);
      expect(openings.some((lang) => lang === ''), `${name}: no marble diagram (a bare fenced block)`).toBe(true);
      expect(summary, `${name}: no "## Example" section`).toMatch(/^## Example/m);
      expect(openings, `${name}: no \`\`\`ts example`).toContain('ts');
    });
  }
});
