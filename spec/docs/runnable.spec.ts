/**
 * The runnable examples of the docs are run, not only typechecked: every ```ts block preceded by
 * `<!-- runnable: NAME -->` in README.md or docs/*.md is written to a file in the repository (so 'rxjs-backpressure'
 * resolves as it does for the examples), run in a child process, and the JSON line it prints last is checked against
 * what its text says: that the queue really filled and dropped under the load it describes.
 *
 * Every runnable block must have a check here, and every check a block, so a new one cannot slip through unchecked.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, '.runnable');
const run = promisify(execFile);

interface Block {
  name: string;
  page: string;
  code: string;
}

function blocks(): Block[] {
  const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const found: Block[] = [];
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8');
    for (const m of text.matchAll(/<!-- runnable: ([\w-]+) -->\s*\n```ts\n([\s\S]*?)\n```/g)) {
      found.push({ name: m[1]!, page, code: m[2]! });
    }
  }
  return found;
}

type Output = Record<string, unknown>;

/** What each example's text promises, as checks on the JSON line it prints last. */
const CHECKS: Record<string, (out: Output) => void> = {
  // README quick start: a burst of 10 000 into dropOnFull({ capacity: 100 }) before drain({ concurrency: 4 })
  'quick-start': (out) => {
    expect(out['enqueued']).toBe(10_000);
    expect(out['dequeued']).toBe(104); // 4 taken at once by the drain, 100 from the full queue
    expect(out['dropped']).toBe(10_000 - 104);
    expect((out['droppedBy'] as Record<string, number>)['overflow']).toBe(10_000 - 104);
    expect(out['depth']).toBe(0);
  },
  // strategies.md, ignoring the drop signal: 5000 orders, 4 in flight, 100 queued, no onDrop
  'drops-ignored': (out) => {
    expect(out).toEqual({ fulfilled: 104 });
  },
  'drops-reported': (out) => {
    expect(out).toEqual({ fulfilled: 104, deadLetters: 5000 - 104 });
  },
};

describe('runnable docs examples', () => {
  const found = blocks();
  mkdirSync(dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every runnable block has a check, and every check a block', () => {
    expect(found.map((b) => b.name).sort()).toEqual(Object.keys(CHECKS).sort());
  });

  it.each(found.map((b) => [b.name, b] as const))('%s runs and does what its text says', async (_, block) => {
    const file = join(dir, `${block.name}.ts`);
    writeFileSync(file, block.code);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 30_000 });
    const last = stdout.trim().split('\n').pop()!;
    CHECKS[block.name]!(JSON.parse(last) as Output);
  });
});
