/**
 * Adaptive concurrency against fixed limits on one simulated overloaded downstream (issue 21).
 *
 * The downstream has a true concurrency C = 32 and a no-load latency of 20 ms; above C it thrashes: latency =
 * 20 ms x (running / C)^2, so its throughput falls as more run (at 64 running it serves half as much). A caller times a
 * call out after 100 ms (5x the no-load latency): that is a drop. Arrivals come at 2x the downstream's capacity into
 * `dropOnFull({ capacity: 32 })`, drained by `drain(call, { concurrency })` with, in the same run: fixed 16, 32 and 64,
 * and `adaptiveConcurrency()` with each algorithm. Measured per configuration, in virtual time (the simulation is
 * exact; 5 seeds of +-10% latency jitter, medians): served calls per second, and the p50 / p99 latency of served
 * calls. Goal: adaptive >= 90% of the best fixed limit's throughput with p99 <= 2x the no-load latency (40 ms). AIMD,
 * which reads drops only, also runs with the caller's timeout at 40 ms (a drop signal near capacity).
 *
 * It measures the package as it ships (dist/, checked by the harness). Baseline: the best fixed limit of the run.
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/adaptive.bench.ts
 */
import { Observable, Subject, VirtualTimeScheduler } from 'rxjs';
import type { SchedulerAction } from 'rxjs';
import { pathToFileURL } from 'node:url';
import * as shipped from 'rxjs-backpressure';
import { save } from './harness.js';

const C = 32;
const BASE = 20;
const TIMEOUT = 100;
const SECONDS = process.env['BENCH_QUICK'] === '1' ? 5 : 30;
const SEEDS = [1, 2, 3, 4, 5];

type Concurrency = number | 'gradient2' | 'vegas' | 'aimd';

function lcg(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Result {
  throughput: number;
  p50: number;
  p99: number;
  finalLimit: number | undefined;
}

/** One run: the flood, the queue, the drain and the downstream, for `SECONDS` of virtual time. */
function run(concurrency: Concurrency, seed: number, timeout = TIMEOUT): Result {
  if (typeof shipped.drain !== 'function' || typeof shipped.adaptiveConcurrency !== 'function') {
    throw new Error('adaptive.bench: the built package has no drain / adaptiveConcurrency (rebuild dist/)');
  }
  const clock = new VirtualTimeScheduler(undefined, Infinity);
  const random = lcg(seed);
  const latencies: number[] = [];
  let running = 0;
  const call = (): Observable<number> =>
    new Observable<number>((subscriber) => {
      running++;
      const started = clock.now();
      const latency = BASE * Math.max(1, (running / C) ** 2) * (0.9 + 0.2 * random());
      const late = latency > timeout;
      let done = false;
      const reply = clock.schedule(
        () => {
          done = true;
          running--;
          if (late) {
            subscriber.error(new Error('timed out'));
            return;
          }
          latencies.push(clock.now() - started);
          subscriber.next(1);
          subscriber.complete();
        },
        late ? timeout : latency,
      );
      return () => {
        if (done) return;
        running--;
        reply.unsubscribe();
      };
    });
  const limiter =
    typeof concurrency === 'number'
      ? concurrency
      : shipped.adaptiveConcurrency({ algorithm: concurrency, scheduler: clock });
  const arrivals = new Subject<number>();
  const subscription = arrivals
    .pipe(
      shipped.dropOnFull({ capacity: 32, scheduler: clock }),
      shipped.drain(() => call(), { concurrency: limiter, onError: 'continue' }),
    )
    .subscribe();
  // 2x capacity: C / BASE calls per ms the downstream can serve at best, twice that arrive
  const perMs = (2 * C) / BASE;
  let owed = 0;
  let n = 0;
  clock.schedule(function (this: SchedulerAction<unknown>) {
    owed += perMs;
    for (; owed >= 1; owed--) arrivals.next(n++);
    if (clock.now() < SECONDS * 1000) this.schedule(undefined, 1);
  });
  clock.flush();
  subscription.unsubscribe();
  latencies.sort((a, b) => a - b);
  return {
    throughput: latencies.length / SECONDS,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    finalLimit: typeof limiter === 'number' ? undefined : limiter.limit,
  };
}

export async function main(): Promise<void> {
  // aimd reads no latency: it finds the limit only where calls are dropped, so it also runs with the caller's timeout
  // at 2x the no-load latency (a drop signal near capacity), in a row of its own
  const configs: Array<[Concurrency, number]> = [
    [16, TIMEOUT],
    [32, TIMEOUT],
    [64, TIMEOUT],
    ['gradient2', TIMEOUT],
    ['vegas', TIMEOUT],
    ['aimd', TIMEOUT],
    ['aimd', 2 * BASE],
  ];
  const rows = configs.map(([concurrency, timeout]) => {
    const runs = SEEDS.map((seed) => run(concurrency, seed, timeout));
    const name = typeof concurrency === 'number' ? `fixed ${concurrency}` : `adaptiveConcurrency('${concurrency}')`;
    return {
      concurrency: timeout === TIMEOUT ? name : `${name}, timeout ${timeout} ms`,
      adaptive: typeof concurrency !== 'number',
      throughput: median(runs.map((r) => r.throughput)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      finalLimit: runs[0]!.finalLimit,
    };
  });
  const bestFixed = Math.max(...rows.filter((r) => !r.adaptive).map((r) => r.throughput));
  const table = rows.map((r) => ({
    concurrency: r.concurrency,
    'served / s': Math.round(r.throughput),
    'of best fixed': `${((100 * r.throughput) / bestFixed).toFixed(1)}%`,
    'p50 ms': r.p50.toFixed(1),
    'p99 ms': r.p99.toFixed(1),
    'final limit': r.finalLimit ?? '',
    goal: r.adaptive
      ? r.throughput >= 0.9 * bestFixed && r.p99 <= 2 * BASE
        ? 'met'
        : `missed (${r.throughput < 0.9 * bestFixed ? 'throughput' : 'p99'})`
      : '',
  }));
  console.log(
    `adaptive concurrency: downstream C = ${C}, no-load ${BASE} ms, thrashing above C, timeout ${TIMEOUT} ms; ` +
      `arrivals at 2x capacity; ${SECONDS} s x ${SEEDS.length} seeds (medians)`,
  );
  console.table(table);
  save([], { adaptiveConcurrency: { downstream: { C, BASE, TIMEOUT, SECONDS, seeds: SEEDS.length }, rows: table } });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
