/**
 * `pull()` + `demand.drain()` against the two stream libraries people use for backpressure today (issue 8):
 * - Node streams: `pipeline(Readable.from(source), Transform, Writable)`, objectMode, highWaterMark 16 each;
 * - WHATWG streams: `ReadableStream` -> `pipeThrough(TransformStream)` -> `pipeTo(WritableStream)`, highWaterMark 16.
 *
 * Every pipeline reads 10^4 numbers (the WHATWG one 2 * 10^3, it is that much slower), doubles each, and writes it to a sink one at a time (the next write starts when
 * the previous one is done). The same bounds on our side: `pull(source, upstream)` ->
 * `bufferBounded({ capacity: 16, upstream, demand })` -> `map` -> `demand.drain(write)` holds at most 16 values
 * between the producer and the sink, like one highWaterMark; plain `pull` + `drain` holds none.
 * Two workloads: a synchronous generator and synchronous writes (each library's best case), and an async generator
 * with a write that returns a resolved promise (one microtask per value on every side).
 *
 *   node --expose-gc --import tsx --import ./bench/register.mjs bench/streams.bench.ts
 */
import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { Demand, bufferBounded, pull } from '../src/index.js';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const N = 10_000;
const HWM = 16;
let sink = 0;

/** The WHATWG pipeline costs tens of µs a value: it reads fewer values per call so a round stays short. */
const WEB_N = 2_000;

function* syncNumbers(n = N): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function* asyncNumbers(n = N): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

type Workload = { source: (n?: number) => Iterable<number> | AsyncIterable<number>; async: boolean };
const syncWork: Workload = { source: syncNumbers, async: false };
const asyncWork: Workload = { source: asyncNumbers, async: true };

const done = (observable: Observable<unknown>): Promise<void> =>
  new Promise((resolve, reject) => observable.subscribe({ error: reject, complete: resolve }));

function nodePipeline({ source, async }: Workload): () => Promise<void> {
  return () =>
    pipeline(
      Readable.from(source(), { objectMode: true, highWaterMark: HWM }),
      new Transform({
        objectMode: true,
        highWaterMark: HWM,
        transform(chunk: number, _encoding, callback) {
          callback(null, chunk * 2);
        },
      }),
      new Writable({
        objectMode: true,
        highWaterMark: HWM,
        write(chunk: number, _encoding, callback) {
          sink += chunk;
          if (async) void Promise.resolve().then(() => callback());
          else callback();
        },
      }),
    );
}

function webPipeline({ source, async }: Workload): () => Promise<void> {
  return () => {
    const input = source(WEB_N);
    const iterator =
      Symbol.asyncIterator in input
        ? (input as AsyncIterable<number>)[Symbol.asyncIterator]()
        : (input as Iterable<number>)[Symbol.iterator]();
    const readable = new ReadableStream<number>(
      {
        async pull(controller) {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
      },
      new CountQueuingStrategy({ highWaterMark: HWM }),
    );
    return readable
      .pipeThrough(
        new TransformStream<number, number>(
          {
            transform(chunk, controller) {
              controller.enqueue(chunk * 2);
            },
          },
          new CountQueuingStrategy({ highWaterMark: HWM }),
          new CountQueuingStrategy({ highWaterMark: HWM }),
        ),
      )
      .pipeTo(
        new WritableStream<number>(
          {
            write(chunk) {
              sink += chunk;
              return async ? Promise.resolve() : undefined;
            },
          },
          new CountQueuingStrategy({ highWaterMark: HWM }),
        ),
      );
  };
}

const write =
  (async: boolean) =>
  (value: number): Promise<number> | number[] => {
    sink += value;
    return async ? Promise.resolve(value) : [];
  };

function pullDrain({ source, async }: Workload): () => Promise<void> {
  return () => {
    const demand = new Demand();
    return done(
      pull(source(), demand).pipe(
        map((x) => x * 2),
        demand.drain(write(async)),
      ),
    );
  };
}

function pullBufferDrain({ source, async }: Workload): () => Promise<void> {
  return () => {
    const upstream = new Demand();
    const demand = new Demand();
    return done(
      pull(source(), upstream).pipe(
        bufferBounded({ capacity: HWM, upstream, demand }),
        map((x) => x * 2),
        demand.drain(write(async)),
      ),
    );
  };
}

function cases(work: Workload): Parameters<typeof compare>[2] {
  return [
    { name: 'WHATWG ReadableStream -> pipeThrough -> pipeTo', fn: webPipeline(work), values: WEB_N },
    { name: 'pull -> map -> demand.drain', fn: pullDrain(work), values: N },
    { name: 'pull -> bufferBounded(16, upstream) -> map -> drain', fn: pullBufferDrain(work), values: N },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const node = 'Node pipeline(Readable.from -> Transform -> Writable)';
  const options = { rounds: 4, time: 150 };
  const rows = [
    ...(await compare(
      'streams: sync generator, sync writes, 10^4 values, highWaterMark 16',
      { name: node, fn: nodePipeline(syncWork), values: N },
      cases(syncWork),
      options,
    )),
    ...(await compare(
      'streams: async generator, writes resolve a promise, 10^4 values, highWaterMark 16',
      { name: node, fn: nodePipeline(asyncWork), values: N },
      cases(asyncWork),
      options,
    )),
  ];
  print(rows);
  save(rows);
  if (sink === -1) console.log(sink);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
