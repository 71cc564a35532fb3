/**
 * The child process of copy.integration.spec.ts, started with `node --expose-gc --import tsx`: copies 10^6 records
 * from a generator through `map` into a slow Node Writable, one way per run, and prints what it measured as JSON.
 *
 * - `bounded`: `pull(records()).pipe(map(toLine), writeTo(sink))`
 * - `unbounded`: `from(records()).pipe(map(toLine)).subscribe((line) => sink.write(line))`, ignoring write()'s
 *   result (the classic mistake)
 *
 * The heap is measured after a full GC every 10^5 records (from inside the generator, so the unbounded copy, which
 * runs the generator to the end in one synchronous loop, is measured while it fills the Writable), and once more when
 * the sink has finished.
 */
import { Writable } from 'node:stream';
import { from, map } from 'rxjs';
import { pull, writeTo } from '../../src/index.js';

const mode = process.argv[2];
const N = Number(process.argv[3] ?? 1_000_000);
const EVERY = N / 10;
const HIGH_WATER_MARK = 16;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
if (mode !== 'bounded' && mode !== 'unbounded') throw new Error('mode: bounded | unbounded');

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

function* records(): Generator<Record> {
  for (let id = 0; id < N; id++) {
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
measure();
process.stdout.write(
  JSON.stringify({ mode, records: N, written, maxLength, highWaterMark: HIGH_WATER_MARK, heap }) + '\n',
);
