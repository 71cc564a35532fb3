/**
 * No example in the repository is a queue that cannot fill.
 *
 * A queue operator with no consumer pacing it (no drain linked below it, no `demand`, no bridge reading it) has
 * unbounded credit: it never holds a value and never drops one, so an example built that way shows nothing of what it
 * claims. Every ```ts block of README.md and docs/*.md, every JSDoc `## Example` under src/, and every file under
 * examples/ that calls a queue operator must also have one of the consumers below.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const QUEUE = /\b(dropOnFull|bufferBounded|shedByPriority|adaptiveBuffer)\(|new BoundedSubject\b/;
const CONSUMER =
  /\bdrain\(|\.drain\(|\bdemand\b|\btoAsyncIterable\(|\btoReadableStream\(|\bwriteTo\(|\bserveStreams\(|\bupstream\b/;

function files(dir: string, ext: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? entry.name === 'node_modules' || entry.name === 'dist'
        ? []
        : files(join(dir, entry.name), ext)
      : entry.name.endsWith(ext)
        ? [join(dir, entry.name)]
        : [],
  );
}

function markdownBlocks(file: string): { id: string; code: string }[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)\n```/g)].map((m) => ({
    id: `${file}:${text.slice(0, m.index).split('\n').length + 1}`,
    code: m[1]!,
  }));
}

function jsdocBlocks(file: string): { id: string; code: string }[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/\* ```ts\n((?:\s*\*.*\n)*?)\s*\* ```/g)].map((m) => ({
    id: `${file}:${text.slice(0, m.index).split('\n').length + 1}`,
    code: m[1]!.replace(/^\s*\* ?/gm, ''),
  }));
}

const blocks = [
  ...['README.md', ...files('docs', '.md')].flatMap(markdownBlocks),
  ...files('src', '.ts').flatMap(jsdocBlocks),
  ...files('examples', '.ts').map((file) => ({ id: file, code: readFileSync(join(root, file), 'utf8') })),
];

describe('every example with a queue shows a consumer that makes it fill', () => {
  it('finds the examples to check', () => {
    expect(blocks.filter((b) => QUEUE.test(b.code)).length).toBeGreaterThan(10);
  });

  it('no queue without a consumer', () => {
    const unpaced = blocks.filter((b) => QUEUE.test(b.code) && !CONSUMER.test(b.code)).map((b) => b.id);
    expect(unpaced).toEqual([]);
  });

  it('the check itself: a queue subscribed directly is caught, one before a drain is not', () => {
    expect(QUEUE.test('jobs$.pipe(dropOnFull({ capacity: 100 })).subscribe(run)')).toBe(true);
    expect(CONSUMER.test('jobs$.pipe(dropOnFull({ capacity: 100 })).subscribe(run)')).toBe(false);
    expect(CONSUMER.test('jobs$.pipe(dropOnFull({ capacity: 100 }), drain(run))')).toBe(true);
  });
});
