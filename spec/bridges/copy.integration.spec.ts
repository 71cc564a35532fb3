/**
 * A copy of 10^6 records from a generator through `map` into a slow Node Writable, measured in child processes started
 * with `node --expose-gc` (heapUsed after a full GC every 10^5 records and at the end), both ways in the same run:
 *
 * - bounded: `pull(records()).pipe(map(toLine), writeTo(sink))`: the heap stays flat, the Writable never holds more
 *   than its highWaterMark;
 * - unbounded (the mistake): `from(records())` + `subscribe((line) => sink.write(line))` ignoring write()'s result:
 *   every record is buffered in the Writable before the first is written, and the heap grows with the copy.
 *
 * And the same for a `for await` loop over 2 x 10^5 records: `toAsyncIterable(pull(...))` against the usual hand-made
 * adapter that subscribes and buffers (rxjs#5297): flat against growing.
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
const READ = 200_000;

interface Copy {
  mode: 'bounded' | 'unbounded' | 'iterate-bounded' | 'iterate-unbounded';
  records: number;
  /** Records written (iterate: taken by the loop). */
  written: number;
  /** Most the Writable held (iterate: most records produced and not yet taken by the loop). */
  maxLength: number;
  highWaterMark: number;
  /** heapUsed in MB after a full GC: every 10^5 records, then once the sink has finished. */
  heap: number[];
}

function copy(mode: Copy['mode'], records = RECORDS): Promise<Copy> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(here, 'copy.child.ts'), mode, String(records)],
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
      `${r.mode}: ${r.written} of ${r.records} records ${r.mode.startsWith('iterate') ? 'read' : 'written'}; ` +
        `${r.mode.startsWith('iterate') ? 'produced ahead of the loop' : 'Writable held'} at most ${r.maxLength}; ` +
        `heapUsed after GC, MB, every ${r.records / 10} records then at the end: ${r.heap.join(' ')}`,
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

  it('for await over toAsyncIterable(pull()) keeps the heap flat; over an adapter that buffers, it grows', async () => {
    const [bounded, unbounded] = await Promise.all([copy('iterate-bounded', READ), copy('iterate-unbounded', READ)]);
    results.push(bounded, unbounded);
    expect(bounded.written).toBe(READ);
    expect(unbounded.written).toBe(READ);
    // toAsyncIterable's default capacity is 16: the generator ran at most 16 + 1 ahead of the loop
    expect(bounded.maxLength).toBeLessThanOrEqual(16 + 1);
    const during = bounded.heap.slice(0, -1);
    expect(Math.max(...during) - Math.min(...during)).toBeLessThan(8);
    // the adapter subscribed and took every record before the loop had read the first
    expect(unbounded.maxLength).toBeGreaterThan(READ / 2);
    const grown = unbounded.heap.slice(0, -1);
    expect(grown.at(-1)! - grown[0]!).toBeGreaterThan(20);
    for (let i = 1; i < grown.length; i++) expect(grown[i]!).toBeGreaterThan(grown[i - 1]!);
  }, 60_000);
});
