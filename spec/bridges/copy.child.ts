/**
 * The child process of copy.integration.spec.ts, started with `node --expose-gc --import tsx`: moves records from a
 * generator through `map` to a slow consumer, one way per run, and prints what it measured as JSON.
 *
 * - `bounded`: `pull(records()).pipe(map(toLine), writeTo(sink))` into a slow Node Writable
 * - `unbounded`: `from(records()).pipe(map(toLine)).subscribe((line) => sink.write(line))`, ignoring write()'s
 *   result (the classic mistake)
 * - `iterate-bounded`: `for await (const line of toAsyncIterable(pull(records()).pipe(map(toLine))))` with a slow loop
 * - `iterate-unbounded`: the same loop over the usual hand-made adapter, which subscribes and buffers every value
 *
 * The heap is measured after a full GC every 10^5 records (from inside the generator, so the unbounded copy, which
 * runs the generator to the end in one synchronous loop, is measured while it fills the Writable), and once more when
 * the sink has finished.
 */
import { Writable } from 'node:stream';
import { from, map } from 'rxjs';
import type { Observable } from 'rxjs';
import { pull, toAsyncIterable, writeTo } from '../../src/index.js';

const mode = process.argv[2];
const N = Number(process.argv[3] ?? 1_000_000);
const EVERY = N / 10;
const HIGH_WATER_MARK = 16;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const MODES = ['bounded', 'unbounded', 'iterate-bounded', 'iterate-unbounded'];
if (mode === undefined || !MODES.includes(mode)) throw new Error(`mode: ${MODES.join(' | ')}`);

const MB = 1024 * 1024;
const heap: number[] = [];
const measure = (): void => {
  gc();
  heap.push(+(process.memoryUsage().heapUsed / MB).toFixed(1));
};

interface Record {
  id: number;
  name: string;
  tags: string[];
}

let produced = 0;
function* records(): Generator<Record> {
  for (let id = 0; id < N; id++) {
    produced++;
    if (id % EVERY === 0) measure();
    yield { id, name: `record number ${id}`, tags: ['a', String(id % 7)] };
  }
}

const toLine = (record: Record): string => `${record.id},${record.name},${record.tags.join('|')}\n`;

let written = 0;
let maxLength = 0;
const sink = new Writable({
  objectMode: true,
  highWaterMark: HIGH_WATER_MARK,
  write(_line: string, _encoding, callback) {
    written++;
    // slow, and always asynchronous: a turn of the event loop every 8 records (a device that flushes in blocks)
    if (written % 8 === 0) setImmediate(callback);
    else process.nextTick(callback);
  },
});
const write = sink.write.bind(sink);
sink.write = ((chunk: unknown, ...rest: never[]) => {
  const room = write(chunk, ...rest);
  if (sink.writableLength > maxLength) maxLength = sink.writableLength;
  return room;
}) as typeof sink.write;

/** The usual hand-made `for await` adapter: subscribes, and buffers every value the loop has not taken yet. */
async function* naiveIterable<T>(source: Observable<T>): AsyncGenerator<T> {
  const buffer: T[] = [];
  let taken = 0;
  let done = false;
  let wake: (() => void) | undefined;
  source.subscribe({
    next: (value) => {
      buffer.push(value);
      wake?.();
    },
    complete: () => {
      done = true;
      wake?.();
    },
  });
  for (;;) {
    if (taken < buffer.length) {
      const value = buffer[taken]!;
      buffer[taken++] = undefined as T; // (an index, not shift(): the adapter's only cost is its memory)
      yield value;
    } else if (done) return;
    else await new Promise<void>((resolve) => (wake = resolve));
  }
}

/** A slow loop body: a turn of the event loop every 8 values. */
let consumed = 0;
let maxAhead = 0;
async function consume(lines: AsyncIterable<string>): Promise<void> {
  for await (const _line of lines) {
    consumed++;
    if (produced - consumed > maxAhead) maxAhead = produced - consumed;
    if (consumed % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

if (mode === 'bounded' || mode === 'unbounded') {
  const finished = new Promise<void>((resolve, reject) => {
    sink.once('finish', resolve);
    sink.once('error', reject);
  });
  if (mode === 'bounded') {
    pull(records())
      .pipe(map(toLine), writeTo(sink))
      .subscribe({ error: (error: unknown) => sink.destroy(error as Error) });
  } else {
    from(records())
      .pipe(map(toLine))
      .subscribe({ next: (line) => void sink.write(line), complete: () => sink.end() });
  }
  await finished;
} else {
  const lines =
    mode === 'iterate-bounded'
      ? toAsyncIterable(pull(records()).pipe(map(toLine)))
      : naiveIterable(from(records()).pipe(map(toLine)));
  await consume(lines);
}
measure();
process.stdout.write(
  JSON.stringify({
    mode,
    records: N,
    written: mode.startsWith('iterate') ? consumed : written,
    maxLength: mode.startsWith('iterate') ? maxAhead : maxLength,
    highWaterMark: HIGH_WATER_MARK,
    heap,
  }) + '\n',
);
