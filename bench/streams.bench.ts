/**
 * `pull -> map -> drain` against Node streams (issue 17, item 4), on the shipped build, in one process:
 * - baseline: `pipeline(Readable.from(gen), Transform, Writable)`, objectMode, highWaterMark 16 each, the Transform
 *   doubling each value, the Writable adding it to a sink (one write at a time, as a drain with concurrency 1);
 * - ours: `pull(gen(), d).pipe(map(x => x * 2), d.drain(write))` (today's API), and, as soon as the build exports the
 *   free `drain` (detected at run time), `pull(gen()).pipe(map(x => x * 2), drain(write))` beside it.
 * Goals (time per value, ours / Node's): sync workload <= 0.5x, async workload <= 0.75x.
 *
 * Two workloads, 10^4 values per call:
 * - sync: a synchronous generator, and a synchronous write (Node: `callback()` at once; ours: the project writes and
 *   returns `[]`, an ObservableInput with nothing to emit); plus the same write returning `of(x)`;
 * - async: an async generator, and a write that returns a resolved promise (Node: `callback()` after one microtask;
 *   ours: `Promise.resolve(x)`); plus an `async` function, and the synchronous `of(x)`.
 * The project shapes are the cases the drain can special-case (arrays, promises) and the one it cannot (an Observable).
 * For context: the same bounds with a buffer (`bufferBounded({ capacity: 16, upstream })`, like one highWaterMark)
 * and WHATWG streams (`ReadableStream -> pipeThrough -> pipeTo`, highWaterMark 16, 2 * 10^3 values per call).
 *
 * Many short rounds (12 x 80 ms per case, baseline and candidates interleaved) rather than a few long ones: on a shared
 * machine, load that comes and goes then hits every case of a group alike. And the whole measurement runs in 3 fresh
 * processes (BENCH_STREAMS_PROCESSES to change), reported as the median over them with the spread between them: the
 * JIT of one process can land this pipeline 25% faster or slower than the next one (measured: 1.23x and 1.59x in two
 * consecutive runs), which no number of rounds inside one process averages out.
 *
 * Before measuring, every case runs once and must write exactly its number of values and complete (a drain that
 * loses, repeats or stalls fails the bench instead of looking fast).
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/streams.bench.ts
 */
import { map, of } from 'rxjs';
import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as shipped from 'rxjs-backpressure';
import { Demand, bufferBounded, pull } from 'rxjs-backpressure';
import { combineProcesses, compare, print, save } from './harness.js';
import type { BenchCase, BenchRow } from './harness.js';

const quick = process.env['BENCH_QUICK'] === '1';
const N = 10_000;
const HWM = 16;
/** The WHATWG pipeline costs tens of µs a value: it reads fewer values per call so a round stays short. */
const WEB_N = 2_000;
const GOAL = { sync: 0.5, async: 0.75 };

/** Values written by the sinks of every pipeline (checked before measuring), and their sum (kept live). */
let written = 0;
let sink = 0;

type Project = (value: number) => ObservableInput<unknown>;
/** The free `drain` of API.md "Demand end to end", once the build exports it. */
type FreeDrain = (project: Project) => OperatorFunction<number, unknown>;
const freeDrain = (shipped as unknown as Record<string, unknown>)['drain'] as FreeDrain | undefined;
/** `pull(input)` with no demand: the form the free `drain` links to. */
const pullLinked = pull as unknown as (input: Iterable<number> | AsyncIterable<number>) => Observable<number>;

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
          written++;
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
              written++;
              return async ? Promise.resolve() : undefined;
            },
          },
          new CountQueuingStrategy({ highWaterMark: HWM }),
        ),
      );
  };
}

/** The drain's project: the write, in each shape a user may return. */
const projects = {
  'x => []': (value: number): never[] => {
    sink += value;
    written++;
    return [];
  },
  'x => of(x)': (value: number): Observable<number> => {
    sink += value;
    written++;
    return of(value);
  },
  'x => Promise.resolve(x)': (value: number): Promise<number> => {
    sink += value;
    written++;
    return Promise.resolve(value);
  },
  'async x => {}': async (value: number): Promise<void> => {
    sink += value;
    written++;
  },
} satisfies Record<string, Project>;
type Shape = keyof typeof projects;

function demandDrain({ source }: Workload, project: Project): () => Promise<void> {
  return () => {
    const demand = new Demand();
    return done(
      pull(source(), demand).pipe(
        map((x) => x * 2),
        demand.drain(project),
      ),
    );
  };
}

function linkedDrain({ source }: Workload, project: Project, drain: FreeDrain): () => Promise<void> {
  return () =>
    done(
      pullLinked(source()).pipe(
        map((x) => x * 2),
        drain(project),
      ),
    );
}

function bufferDrain({ source }: Workload, project: Project): () => Promise<void> {
  return () => {
    const upstream = new Demand();
    const demand = new Demand();
    return done(
      pull(source(), upstream).pipe(
        bufferBounded({ capacity: HWM, upstream, demand }),
        map((x) => x * 2),
        demand.drain(project),
      ),
    );
  };
}

function cases(work: Workload, shapes: Shape[], goal: number): BenchCase[] {
  const rows: BenchCase[] = [];
  for (const shape of shapes) {
    const project = projects[shape];
    rows.push({
      name: `pull(gen, d) -> map -> d.drain(${shape})`,
      fn: demandDrain(work, project),
      values: N,
      goal,
    });
    if (freeDrain) {
      rows.push({
        name: `pull(gen) -> map -> drain(${shape})`,
        fn: linkedDrain(work, project, freeDrain),
        values: N,
        goal,
      });
    }
  }
  rows.push({
    name: `pull -> bufferBounded(16, upstream) -> map -> d.drain(${shapes[0]!}) [context]`,
    fn: bufferDrain(work, projects[shapes[0]!]),
    values: N,
  });
  rows.push({ name: 'WHATWG ReadableStream -> pipeThrough -> pipeTo [context]', fn: webPipeline(work), values: WEB_N });
  return rows;
}

/** Runs the case once: it must write exactly `values` values and complete within 10 s. */
async function verify(c: BenchCase): Promise<void> {
  written = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`streams bench: ${c.name} did not complete in 10 s`)), 10_000);
  });
  try {
    await Promise.race([c.fn(), stalled]);
  } finally {
    clearTimeout(timer);
  }
  const expected = c.values ?? 1;
  if (written !== expected) throw new Error(`streams bench: ${c.name} wrote ${written} values, not ${expected}`);
}

async function group(title: string, work: Workload, shapes: Shape[], goal: number): Promise<BenchRow[]> {
  const baseline: BenchCase = {
    name: 'Node pipeline(Readable.from -> Transform -> Writable)',
    fn: nodePipeline(work),
    values: N,
  };
  const candidates = cases(work, shapes, goal);
  for (const c of [baseline, ...candidates]) await verify(c);
  return compare(title, baseline, candidates, quick ? {} : { rounds: 12, time: 80 });
}

async function measure(): Promise<BenchRow[]> {
  console.log(
    freeDrain
      ? 'streams: the build exports the free drain: rows for both drain(...) and demand.drain(...)'
      : 'streams: the build has no free drain export yet: demand.drain(...) rows only',
  );
  const rows = [
    ...(await group(
      `streams, sync: sync generator, sync write, 10^4 values, highWaterMark 16 (goal <= ${GOAL.sync}x Node)`,
      syncWork,
      ['x => []', 'x => of(x)'],
      GOAL.sync,
    )),
    ...(await group(
      `streams, async: async generator, write resolves a promise, 10^4 values, highWaterMark 16 (goal <= ${GOAL.async}x Node)`,
      asyncWork,
      ['x => Promise.resolve(x)', 'async x => {}', 'x => of(x)'],
      GOAL.async,
    )),
  ];
  if (sink === -1) console.log(sink);
  return rows;
}

/** `measure()` in `n` fresh processes (this file, run with BENCH_STREAMS_OUT set), combined. */
function inProcesses(n: number): BenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'bench-streams-'));
  try {
    const runs: BenchRow[][] = [];
    for (let i = 0; i < n; i++) {
      const out = join(dir, `${i}.json`);
      const started = Date.now();
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
        env: { ...process.env, BENCH_STREAMS_OUT: out },
        stdio: ['ignore', i === 0 ? 'inherit' : 'ignore', 'inherit'],
      });
      if (child.status !== 0) throw new Error(`streams bench: process ${i + 1} of ${n} failed (${child.status})`);
      runs.push(JSON.parse(readFileSync(out, 'utf8')) as BenchRow[]);
      console.log(`streams: process ${i + 1} of ${n} measured (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    return combineProcesses(runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const out = process.env['BENCH_STREAMS_OUT'];
  if (out !== undefined) {
    const rows = await measure();
    writeFileSync(out, JSON.stringify(rows));
    return rows;
  }
  const processes = quick ? 1 : Number(process.env['BENCH_STREAMS_PROCESSES'] ?? 3);
  const rows = processes > 1 ? inProcesses(processes) : await measure();
  if (processes > 1) console.log(`\nstreams: median of ${processes} processes (spread: between processes)`);
  print(rows);
  save(rows, { streamsFreeDrain: freeDrain !== undefined, streamsProcesses: processes });
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
