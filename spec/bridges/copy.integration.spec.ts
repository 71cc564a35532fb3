/**
 * A copy of 10^6 records from a generator through `map` into a slow Node Writable, measured in child processes started
 * with `node --expose-gc` (heapUsed after a full GC every 10^5 records and at the end), both ways in the same run:
 *
 * - bounded: `pull(records()).pipe(map(toLine), writeTo(sink))`: the heap stays flat, the Writable never holds more
 *   than its highWaterMark;
 * - unbounded (the mistake): `from(records())` + `subscribe((line) => sink.write(line))` ignoring write()'s result:
 *   every record is buffered in the Writable before the first is written, and the heap grows with the copy.
 *
 * No timing is asserted; the figures are printed.
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const RECORDS = 1_000_000;

interface Copy {
  mode: 'bounded' | 'unbounded';
  records: number;
  written: number;
  maxLength: number;
  highWaterMark: number;
  /** heapUsed in MB after a full GC: every 10^5 records, then once the sink has finished. */
  heap: number[];
}

function copy(mode: Copy['mode']): Promise<Copy> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(here, 'copy.child.ts'), mode, String(RECORDS)],
      { cwd: root, maxBuffer: 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${mode} copy failed: ${error.message}\n${stderr}`));
        else resolvePromise(JSON.parse(stdout.trim().split('\n').pop()!) as Copy);
      },
    );
  });
}

const results: Copy[] = [];

afterAll(() => {
  for (const r of results) {
    console.log(
      `${r.mode}: ${r.written} of ${r.records} records written; Writable held at most ${r.maxLength} ` +
        `(highWaterMark ${r.highWaterMark}); heapUsed after GC, MB, every 10^5 records then at the end: ${r.heap.join(' ')}`,
    );
  }
});

describe('a copy of 10^6 records into a slow Node Writable (child processes with --expose-gc)', () => {
  it('pull -> map -> writeTo keeps the heap flat; from + subscribe(write) grows it with the copy', async () => {
    const [bounded, unbounded] = await Promise.all([copy('bounded'), copy('unbounded')]);
    results.push(bounded, unbounded);

    // both copies are complete
    expect(bounded.written).toBe(RECORDS);
    expect(unbounded.written).toBe(RECORDS);

    // bounded: the Writable never held more than its highWaterMark, and the heap after GC stayed flat
    expect(bounded.maxLength).toBeLessThanOrEqual(bounded.highWaterMark);
    const during = bounded.heap.slice(0, -1);
    expect(during).toHaveLength(10);
    expect(Math.max(...during) - Math.min(...during)).toBeLessThan(8);

    // unbounded: every record waited in the Writable, and the heap grew with the copy
    expect(unbounded.maxLength).toBeGreaterThan(RECORDS / 2);
    const grown = unbounded.heap.slice(0, -1);
    expect(grown.at(-1)! - grown[0]!).toBeGreaterThan(100);
    for (let i = 1; i < grown.length; i++) expect(grown[i]!).toBeGreaterThan(grown[i - 1]!);
    // and the bounded copy's peak is a small fraction of the unbounded one's
    expect(Math.max(...during)).toBeLessThan(Math.max(...grown) / 4);
  }, 90_000);
});
