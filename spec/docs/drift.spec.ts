import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLane } from '../../scripts/marbles/parse.js';
import { marbleSvgPath, renderMarbleSvg } from '../../scripts/marbles/svg.js';
import { MARBLE_CASES } from '../cases/index.js';

// The diagrams in docs/marbles/ are drawn from the same case data spec/cases/cases.spec.ts runs. If a case changes
// (because behaviour changed) and the diagrams were not regenerated, this fails: run `npm run docs:marbles`.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REGENERATE = 'out of date: run `npm run docs:marbles` and commit docs/marbles/';

describe('docs/marbles/ matches spec/cases', () => {
  for (const marbleCase of MARBLE_CASES) {
    it(`${marbleSvgPath(marbleCase)} is what its case draws`, () => {
      const path = join(root, marbleSvgPath(marbleCase));
      expect(existsSync(path), `${marbleSvgPath(marbleCase)} missing: ${REGENERATE}`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${marbleSvgPath(marbleCase)} ${REGENERATE}`).toBe(
        renderMarbleSvg(marbleCase),
      );
    });
  }

  it('holds no diagram of a case that no longer exists', () => {
    const expected = new Set(MARBLE_CASES.map((c) => `${c.id}.svg`));
    const stale = readdirSync(join(root, 'docs/marbles')).filter((f) => f.endsWith('.svg') && !expected.has(f));
    expect(stale, REGENERATE).toEqual([]);
  });

  it('a changed lane changes the drawing (the comparison can fail)', () => {
    const [first] = MARBLE_CASES;
    if (first === undefined) throw new Error('no cases');
    const output = first.lanes['output'] ?? '';
    const moved = { ...first, lanes: { ...first.lanes, output: `-${output}` } };
    expect(renderMarbleSvg(moved)).not.toBe(renderMarbleSvg(first));
  });

  it('the docs embed only diagrams that exist, and each one somewhere', () => {
    const embedded = new Set<string>();
    const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    for (const doc of docs) {
      const text = readFileSync(join(root, doc), 'utf8');
      // relative (`marbles/x.svg` from docs/, `docs/marbles/x.svg` from the root) or absolute to the repository
      const images = [...text.matchAll(/\]\((?:\S*\/)?(?:docs\/)?marbles\/([\w.-]+\.svg)\)/g)].map((m) => m[1] ?? '');
      for (const image of images) {
        expect(existsSync(join(root, 'docs/marbles', image)), `${doc}: ${image}`).toBe(true);
        embedded.add(image);
      }
    }
    expect(embedded.size, 'no diagram embedded anywhere').toBeGreaterThan(0);
    expect(MARBLE_CASES.map((c) => `${c.id}.svg`).filter((file) => !embedded.has(file))).toEqual([]);
  });
});

describe('marble lanes are read as TestScheduler.run reads them', () => {
  it('every character but a space is one frame; a group shares the frame of its (', () => {
    expect(parseLane('  -a-(bc)-|')).toEqual({
      frames: 9,
      events: [
        { frame: 1, kind: 'next', symbol: 'a', stack: 0 },
        { frame: 3, kind: 'next', symbol: 'b', stack: 0 },
        { frame: 3, kind: 'next', symbol: 'c', stack: 1 },
        { frame: 8, kind: 'complete', symbol: '|', stack: 0 },
      ],
    });
    expect(parseLane('--#').events).toEqual([{ frame: 2, kind: 'error', symbol: '#', stack: 0 }]);
  });

  it('refuses what it cannot draw faithfully', () => {
    expect(() => parseLane('-a 10ms b')).toThrow(SyntaxError);
    expect(() => parseLane('^--!')).toThrow(SyntaxError);
    expect(() => parseLane('-(a')).toThrow(SyntaxError);
    expect(() => parseLane('-a)')).toThrow(SyntaxError);
  });
});
