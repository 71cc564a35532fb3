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
 * Queue rows, same downstream and flood: `dropOnFull({ capacity: 1000 })` drained at the best fixed limit (32 = C, so
 * it serves 1600 a second), alone and with `codel` (RFC 8289's 5 ms / 100 ms, and scaled to the 20 ms call), in 30 s
 * and in 300 s. Measured: served calls per second, the p50 / p99 queue wait of served values (arrival to dequeue), the
 * drop rate (by CoDel, by a full queue), when CoDel first dropped the flood's excess (50% of the arrivals), and the
 * p99 wait from then on. Goal: CoDel's p99 wait <= target + interval; the plain queue waits capacity / service rate.
 *
 * It measures the package as it ships (dist/, checked by the harness). Baselines: the best fixed limit of the run, and
 * for the queue rows the plain dropOnFull of the same length.
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

/** The simulated downstream: latency 20 ms x max(1, (running / C)^2) with +-10% jitter, timed out after `timeout`. */
function downstream(
  clock: VirtualTimeScheduler,
  random: () => number,
  timeout: number,
): (served: (started: number) => void) => Observable<number> {
  let running = 0;
  return (served) =>
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
          served(started);
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
}

/** Arrivals at 2x the downstream's capacity (C / BASE calls per ms at best, twice that), for `seconds`. */
function flood(clock: VirtualTimeScheduler, arrive: (n: number) => void, seconds: number): void {
  const perMs = (2 * C) / BASE;
  let owed = 0;
  let n = 0;
  clock.schedule(function (this: SchedulerAction<unknown>) {
    owed += perMs;
    for (; owed >= 1; owed--) arrive(n++);
    if (clock.now() < seconds * 1000) this.schedule(undefined, 1);
  });
}

/** One run: the flood, the queue, the drain and the downstream, for `SECONDS` of virtual time. */
function run(concurrency: Concurrency, seed: number, timeout = TIMEOUT): Result {
  if (typeof shipped.drain !== 'function' || typeof shipped.adaptiveConcurrency !== 'function') {
    throw new Error('adaptive.bench: the built package has no drain / adaptiveConcurrency (rebuild dist/)');
  }
  const clock = new VirtualTimeScheduler(undefined, Infinity);
  const latencies: number[] = [];
  const call = downstream(clock, lcg(seed), timeout);
  const limiter =
    typeof concurrency === 'number'
      ? concurrency
      : shipped.adaptiveConcurrency({ algorithm: concurrency, scheduler: clock });
  const arrivals = new Subject<number>();
  const subscription = arrivals
    .pipe(
      shipped.dropOnFull({ capacity: 32, scheduler: clock }),
      shipped.drain(() => call((started) => latencies.push(clock.now() - started)), {
        concurrency: limiter,
        onError: 'continue',
      }),
    )
    .subscribe();
  flood(clock, (n) => arrivals.next(n), SECONDS);
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

interface Codel {
  target: number;
  interval: number;
}

/** What a queue row adds to `dropOnFull({ capacity: 1000 })`. */
type Aging = { codel?: Codel; maxAge?: number };

interface QueueResult {
  /** Served values per second (completed by the end of the run). */
  throughput: number;
  /** Queue wait of the served values: arrival to dequeue (the drain's project starts at dequeue). */
  p50: number;
  p99: number;
  /** Of the arrivals: dropped in all, by CoDel or maxAge ('expired'), and refused by a full queue ('overflow'). */
  dropRate: number;
  expiredRate: number;
  overflowRate: number;
  /**
   * When CoDel first dropped at the flood's excess (its 'expired' drops >= 50% of the arrivals of a 100 ms window),
   * in s; undefined if it never did.
   */
  carried: number | undefined;
  /** The first time after `carried` (+1 s) that the queue was full again (an 'overflow' drop), in s. */
  fullAgain: number | undefined;
  /** The p99 wait of the values served from `carried` on (NaN if CoDel never reached it). */
  carriedP99: number;
}

const QUEUE = 1000;

/**
 * One run of the queue rows: the flood into `dropOnFull({ capacity: 1000, codel })`, drained at the best fixed
 * limit (32 = C, so the downstream serves C / BASE = 1600 a second and never thrashes), for `seconds`. The run stops
 * at `seconds`: what is still queued or running then is neither served nor dropped.
 */
function runQueue(aging: Aging, seed: number, seconds: number): QueueResult {
  const clock = new VirtualTimeScheduler(undefined, Infinity);
  const end = seconds * 1000;
  const arrived: number[] = [];
  const waits: number[] = [];
  const servedAt: number[] = [];
  const drops = { expired: 0, overflow: 0, other: 0 };
  // per 100 ms window: arrivals, and CoDel's drops
  const windowArrivals: number[] = [];
  const windowExpired: number[] = [];
  const window = (at: number): number => Math.floor(at / 100);
  let carried: number | undefined;
  let fullAgain: number | undefined;
  const call = downstream(clock, lcg(seed), TIMEOUT);
  const arrivals = new Subject<number>();
  const subscription = arrivals
    .pipe(
      shipped.dropOnFull({
        capacity: QUEUE,
        scheduler: clock,
        ...aging,
        onDrop: ({ reason, at }) => {
          if (reason === 'expired') {
            drops.expired++;
            windowExpired[window(at)] = (windowExpired[window(at)] ?? 0) + 1;
          } else if (reason === 'overflow') {
            drops.overflow++;
            if (carried !== undefined && fullAgain === undefined && at > carried + 1000) fullAgain = at;
          } else if (reason !== 'cancelled') drops.other++; // cancelled: still queued when the run stops
        },
      }),
      shipped.drain(
        (n: number) => {
          const wait = clock.now() - arrived[n]!; // dequeued now: the drain starts a project at each delivery
          return call(() => {
            if (clock.now() > end) return;
            waits.push(wait);
            servedAt.push(clock.now());
          });
        },
        { concurrency: C, onError: 'continue' },
      ),
    )
    .subscribe();
  flood(
    clock,
    (n) => {
      const now = clock.now();
      arrived[n] = now;
      const w = window(now);
      windowArrivals[w] = (windowArrivals[w] ?? 0) + 1;
      // the window before this one is complete: did CoDel drop half of its arrivals?
      if (carried === undefined && w > 0 && (windowExpired[w - 1] ?? 0) >= 0.5 * (windowArrivals[w - 1] ?? Infinity)) {
        carried = w * 100;
      }
      arrivals.next(n);
    },
    seconds,
  );
  clock.schedule(() => subscription.unsubscribe(), end);
  clock.flush();
  const offered = arrived.length;
  const after = waits.filter((_, i) => carried !== undefined && servedAt[i]! >= carried).sort((a, b) => a - b);
  waits.sort((a, b) => a - b);
  return {
    throughput: waits.length / seconds,
    p50: percentile(waits, 0.5),
    p99: percentile(waits, 0.99),
    dropRate: (drops.expired + drops.overflow + drops.other) / offered,
    expiredRate: drops.expired / offered,
    overflowRate: drops.overflow / offered,
    carried: carried === undefined ? undefined : carried / 1000,
    fullAgain: fullAgain === undefined ? undefined : fullAgain / 1000,
    carriedP99: percentile(after, 0.99),
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
  const queueTable = queueRows();
  save([], {
    adaptiveConcurrency: { downstream: { C, BASE, TIMEOUT, SECONDS, seeds: SEEDS.length }, rows: table },
    codel: { downstream: { C, BASE, queue: QUEUE, concurrency: C, seeds: SEEDS.length }, rows: queueTable },
  });
}

/**
 * CoDel's settings in the queue rows. RFC 8289's 5 ms / 100 ms are for Internet paths (an interval of about a
 * worst-case RTT, a target of 5-10% of it). This downstream's round trip is one call, 20 ms, so the scaled pick keeps
 * the RFC's ratio at the downstream's time scale: interval 20 ms, target 1 ms (5%). Both run in `SECONDS` and in a
 * `LONG` run (does it settle?); two shorter intervals run in `SECONDS` only, to show how the miss scales.
 */
const CODELS: Array<[string, Codel, boolean]> = [
  ['RFC 8289', { target: 5, interval: 100 }, true],
  ['scaled to the 20 ms call', { target: 1, interval: 20 }, true],
  ['scaled further', { target: 0.5, interval: 10 }, false],
  ['scaled further', { target: 0.25, interval: 5 }, false],
];
const MAX_AGE = 21;
const LONG = process.env['BENCH_QUICK'] === '1' ? 60 : 300;

function ms(x: number): string {
  return Number.isNaN(x) ? '' : x.toFixed(1);
}

function seconds(xs: Array<number | undefined>): string {
  const known = xs.filter((x): x is number => x !== undefined);
  // a median over the seeds, if most seeds have one
  return known.length * 2 > xs.length ? median(known).toFixed(1) : 'never';
}

/** The queue rows: dropOnFull({ capacity: 1000 }) with and without CoDel, in `SECONDS` and in a longer run. */
function queueRows(): Array<Record<string, string | number>> {
  const configs: Array<[string, Aging, number]> = [];
  for (const length of [SECONDS, LONG]) {
    configs.push(['dropOnFull({ capacity: 1000 })', {}, length]);
    for (const [why, codel, long] of CODELS) {
      if (length === LONG && !long) continue;
      configs.push([`+ codel { target: ${codel.target}, interval: ${codel.interval} } (${why})`, { codel }, length]);
    }
    // for comparison: a bound on the wait itself (a value is dropped at that age), at the scaled CoDel's goal
    if (length === SECONDS) configs.push([`+ maxAge ${MAX_AGE} (no CoDel)`, { maxAge: MAX_AGE }, length]);
  }
  const rows = configs.map(([name, aging, length]) => {
    const { codel, maxAge } = aging;
    const runs = SEEDS.map((seed) => runQueue(aging, seed, length));
    const m = (f: (r: QueueResult) => number): number => median(runs.map(f));
    const throughput = m((r) => r.throughput);
    const p99 = m((r) => r.p99);
    let goal: string;
    let verdict: string;
    if (maxAge !== undefined) {
      goal = `< maxAge = ${maxAge} ms`;
      verdict = p99 < maxAge ? 'met' : `missed by ${(p99 - maxAge).toFixed(1)} ms`;
    } else if (codel === undefined) {
      const predicted = (1000 * QUEUE) / throughput; // capacity / service rate
      goal = `~ capacity / service rate = ${predicted.toFixed(0)} ms`;
      verdict =
        Math.abs(p99 - predicted) <= 0.1 * predicted ? 'as predicted' : `off by ${(p99 - predicted).toFixed(0)} ms`;
    } else {
      const bound = codel.target + codel.interval;
      goal = `<= target + interval = ${bound} ms`;
      verdict =
        p99 <= bound
          ? 'met'
          : `missed by ${(p99 - bound).toFixed(p99 - bound < 10 ? 1 : 0)} ms (${(p99 / bound).toFixed(1)}x)`;
    }
    return {
      queue: name,
      's run': length,
      'served / s': Math.round(throughput),
      'p50 wait ms': ms(m((r) => r.p50)),
      'p99 wait ms': ms(p99),
      'drop rate': `${(100 * m((r) => r.dropRate)).toFixed(1)}%`,
      'expired (CoDel, maxAge)': `${(100 * m((r) => r.expiredRate)).toFixed(1)}%`,
      'by a full queue': `${(100 * m((r) => r.overflowRate)).toFixed(1)}%`,
      'CoDel drops 50% at s': codel === undefined ? '' : seconds(runs.map((r) => r.carried)),
      'full again at s': codel === undefined ? '' : seconds(runs.map((r) => r.fullAgain)),
      'p99 wait from then ms': codel === undefined ? '' : ms(m((r) => r.carriedP99)),
      goal,
      verdict,
    };
  });
  console.log(
    `\nqueue wait: the same downstream and flood, dropOnFull({ capacity: ${QUEUE} }) drained at concurrency ${C} ` +
      `(= C: ${(1000 * C) / BASE} served / s at best); wait = arrival to dequeue, of served values; ` +
      `${SECONDS} s and ${LONG} s x ${SEEDS.length} seeds (medians)`,
  );
  console.table(rows);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
