/**
 * The strategy comparison (seed exercise 5: blocking, buffering, dropping, rate limiting under load), issue 8.
 *
 * The seed overload, in virtual time: a producer offers 10^6 values at 10 000/s for 100 s; the consumer takes 10 ms per
 * value (100/s), so the producer is 100x faster. Every strategy sits between the two. For each it reports:
 * - delivered/s: values the consumer started, per second of (virtual) run time; the consumer's ceiling is 100/s;
 * - drop rate: values lost (dropped, throttled away) / values offered;
 * - p50 / p99 wait: ms from a value's production to the consumer starting it;
 * - peak heap: the highest heapUsed after a full GC (5 samples through the run) minus the heap before it, measured
 *   with --expose-gc;
 * - CPU: wall ms the run took, minus the GC samples (virtual time runs as fast as the CPU allows, so this is the
 *   strategy's cost for the whole run; a blocking strategy is offered only what the consumer asks for). concatMap's
 *   is dominated by Array#shift on its 10^6-value backlog (V8 moves the whole array per shift).
 * Baselines from RxJS: concatMap (unbounded queue), exhaustMap (drops while busy), throttleTime + concatMap.
 * Output: a table, bench/results/strategies.svg, and the `strategies` section of bench/results/latest.json.
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/strategies.bench.ts
 */
import { Observable, VirtualTimeScheduler, concatMap, exhaustMap, tap, throttleTime, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, OperatorFunction, Subscription } from 'rxjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Demand,
  adaptiveBuffer,
  bufferBounded,
  dropOnFull,
  pull,
  shedByPriority,
  throttleTokenBucket,
} from 'rxjs-backpressure';
import { save } from './harness.js';

const quick = process.env['BENCH_QUICK'] === '1';
const TOTAL = quick ? 100_000 : 1_000_000;
const PRODUCE_PER_MS = 10; // 10 000/s
const WORK_MS = 10; // 100/s: the producer is 100x faster
const DURATION = TOTAL / PRODUCE_PER_MS; // ms of virtual time
const HEAP_SAMPLES = 5;

interface Item {
  id: number;
  at: number;
  payload: string;
}

/** What a strategy hands back: the pipeline up to the consumer's work, and how many values it has lost so far. */
interface Built {
  out: Observable<unknown>;
  dropped: () => number;
  /** Values the producer made (a pull source makes only what is asked for). */
  produced: () => number;
}

interface Context {
  s: VirtualTimeScheduler;
  /** The consumer's work: records the wait, takes WORK_MS. */
  work: (item: Item) => Observable<number>;
}

type Strategy = { name: string; kind: string; build: (c: Context) => Built };

export interface StrategyRow {
  strategy: string;
  kind: string;
  offered: number;
  delivered: number;
  deliveredPerSecond: number;
  dropRate: number;
  queuedAtEnd: number;
  p50WaitMs: number;
  p99WaitMs: number;
  peakHeapMB: number;
  cpuMs: number;
}

/** The push producer: TOTAL values at PRODUCE_PER_MS, in batches every 10 ms. */
function producer(s: VirtualTimeScheduler, counter: { produced: number }): Observable<Item> {
  return new Observable<Item>((subscriber) => {
    let action: Subscription;
    const tick = (): void => {
      for (let i = 0; i < PRODUCE_PER_MS * 10 && counter.produced < TOTAL && !subscriber.closed; i++) {
        const id = counter.produced++;
        subscriber.next({ id, at: s.now(), payload: `value ${id}` });
      }
      // a fresh action per tick: a VirtualAction rescheduling itself nests one child per tick
      if (counter.produced < TOTAL && !subscriber.closed) action = s.schedule(tick, 10);
    };
    action = s.schedule(tick);
    return () => action.unsubscribe();
  });
}

/** The pull producer: a generator that makes a value only when it is read. */
function* generated(s: VirtualTimeScheduler, counter: { produced: number }): Generator<Item> {
  while (counter.produced < TOTAL) {
    const id = counter.produced++;
    yield { id, at: s.now(), payload: `value ${id}` };
  }
}

function pushed(op: (c: Context, onDrop: () => void) => OperatorFunction<Item, unknown>): (c: Context) => Built {
  return (c) => {
    const counter = { produced: 0 };
    let dropped = 0;
    const out = producer(c.s, counter).pipe(op(c, () => dropped++));
    return { out, dropped: () => dropped, produced: () => counter.produced };
  };
}

/** A queue operator with a Demand, consumed by demand.drain. */
function queued(make: (demand: Demand, c: Context, onDrop: () => void) => MonoTypeOperatorFunction<Item>) {
  return pushed((c, onDrop) => (source) => {
    const demand = new Demand();
    return source.pipe(make(demand, c, onDrop), demand.drain(c.work));
  });
}

const strategies: Strategy[] = [
  {
    name: 'concatMap (RxJS, unbounded queue)',
    kind: 'buffering',
    build: pushed((c) => concatMap(c.work)),
  },
  {
    name: 'exhaustMap (RxJS, drops while busy)',
    kind: 'dropping',
    build: (c) => {
      const counter = { produced: 0 };
      let started = 0;
      const out = producer(c.s, counter).pipe(exhaustMap((item) => (started++, c.work(item))));
      return { out, dropped: () => counter.produced - started, produced: () => counter.produced };
    },
  },
  {
    name: 'throttleTime(10) + concatMap (RxJS)',
    kind: 'rate limiting',
    build: (c) => {
      const counter = { produced: 0 };
      let passed = 0;
      const out = producer(c.s, counter).pipe(
        throttleTime(WORK_MS, c.s),
        tap(() => passed++),
        concatMap(c.work),
      );
      return { out, dropped: () => counter.produced - passed, produced: () => counter.produced };
    },
  },
  {
    name: 'pull + drain',
    kind: 'blocking',
    build: (c) => {
      const counter = { produced: 0 };
      const demand = new Demand();
      const out = pull(generated(c.s, counter), demand).pipe(demand.drain(c.work));
      return { out, dropped: () => 0, produced: () => counter.produced };
    },
  },
  {
    name: 'bufferBounded(1000) + upstream',
    kind: 'blocking',
    build: (c) => {
      const counter = { produced: 0 };
      const upstream = new Demand();
      const demand = new Demand();
      const out = pull(generated(c.s, counter), upstream).pipe(
        bufferBounded({ capacity: 1000, upstream, demand, scheduler: c.s }),
        demand.drain(c.work),
      );
      return { out, dropped: () => 0, produced: () => counter.produced };
    },
  },
  {
    name: 'dropOnFull(1000, drop-incoming)',
    kind: 'dropping',
    build: queued((demand, c, onDrop) => dropOnFull({ capacity: 1000, demand, onDrop, scheduler: c.s })),
  },
  {
    name: 'dropOnFull(1000, drop-oldest)',
    kind: 'dropping',
    build: queued((demand, c, onDrop) =>
      dropOnFull({ capacity: 1000, overflow: 'drop-oldest', demand, onDrop, scheduler: c.s }),
    ),
  },
  {
    name: 'dropOnFull(1000, earlyDrop f => f * f)',
    kind: 'dropping',
    build: queued((demand, c, onDrop) =>
      dropOnFull({ capacity: 1000, earlyDrop: (f) => f * f, demand, onDrop, scheduler: c.s }),
    ),
  },
  {
    name: 'shedByPriority(1000, 3 levels)',
    kind: 'dropping',
    build: queued((demand, c, onDrop) =>
      shedByPriority({ capacity: 1000, priority: (x: Item) => x.id % 3, demand, onDrop, scheduler: c.s }),
    ),
  },
  {
    name: 'adaptiveBuffer(10..1000, target 1 s)',
    kind: 'dropping',
    build: queued((demand, c, onDrop) =>
      adaptiveBuffer({ minCapacity: 10, maxCapacity: 1000, targetLatency: 1000, demand, onDrop, scheduler: c.s }),
    ),
  },
  {
    name: "throttleTokenBucket(100/s, 'drop') + concatMap",
    kind: 'rate limiting',
    build: pushed(
      (c, onDrop) => (source) =>
        source.pipe(throttleTokenBucket({ rate: 100, mode: 'drop', onDrop, scheduler: c.s }), concatMap(c.work)),
    ),
  },
  {
    name: "throttleTokenBucket(100/s, 'shape', 1000) + concatMap",
    kind: 'rate limiting',
    build: pushed(
      (c, onDrop) => (source) =>
        source.pipe(throttleTokenBucket({ rate: 100, capacity: 1000, onDrop, scheduler: c.s }), concatMap(c.work)),
    ),
  },
];

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function measure(strategy: Strategy, waits: Float64Array): StrategyRow {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  let gcMs = 0;
  const s = new VirtualTimeScheduler();
  let delivered = 0;
  const work = (item: Item): Observable<number> => {
    if (delivered < waits.length) waits[delivered] = s.now() - item.at;
    delivered++;
    return timer(WORK_MS, s);
  };
  const built = strategy.build({ s, work });
  const subscription = built.out.subscribe();
  for (let k = 1; k <= HEAP_SAMPLES; k++) {
    s.schedule(
      () => {
        const t = performance.now();
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
        gcMs += performance.now() - t;
      },
      (DURATION * k) / HEAP_SAMPLES - 1,
    );
  }
  let offered = 0;
  let dropped = 0;
  s.schedule(() => {
    offered = built.produced();
    dropped = built.dropped();
    subscription.unsubscribe();
  }, DURATION);
  const started = performance.now();
  s.flush();
  const cpuMs = performance.now() - started - gcMs;
  const sorted = waits.subarray(0, Math.min(delivered, waits.length)).sort();
  return {
    strategy: strategy.name,
    kind: strategy.kind,
    offered,
    delivered,
    deliveredPerSecond: delivered / (DURATION / 1000),
    dropRate: offered === 0 ? 0 : dropped / offered,
    queuedAtEnd: offered - delivered - dropped,
    p50WaitMs: percentile(sorted, 0.5),
    p99WaitMs: percentile(sorted, 0.99),
    peakHeapMB: (peak - base) / 1024 / 1024,
    cpuMs,
  };
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Four horizontal bar panels, one row per strategy; wait and heap on a log scale (concatMap dwarfs the rest). */
export function chart(rows: StrategyRow[]): string {
  const label = 330;
  const panel = 190;
  const gap = 20;
  const rowH = 20;
  const top = 56;
  const colors: Record<string, string> = {
    blocking: '#2b8a3e',
    buffering: '#c92a2a',
    dropping: '#1864ab',
    'rate limiting': '#e67700',
  };
  const panels: { title: string; value: (r: StrategyRow) => number; text: (v: number) => string; log: boolean }[] = [
    { title: 'delivered / s', value: (r) => r.deliveredPerSecond, text: (v) => v.toFixed(0), log: false },
    { title: 'drop rate', value: (r) => r.dropRate * 100, text: (v) => `${v.toFixed(1)}%`, log: false },
    {
      title: 'p99 wait (log)',
      value: (r) => r.p99WaitMs,
      text: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`),
      log: true,
    },
    { title: 'peak heap (log)', value: (r) => r.peakHeapMB, text: (v) => `${v.toFixed(1)} MB`, log: true },
  ];
  const width = label + panels.length * (panel + gap);
  const height = top + rows.length * rowH + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Seed overload: 10^${Math.log10(TOTAL).toFixed(0)} values offered at 100x the consumer's rate (virtual time)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${label - 8}" y="${y + 14}" text-anchor="end">${escape(r.strategy)}</text>`);
  });
  panels.forEach((p, j) => {
    const x0 = label + j * (panel + gap);
    const values = rows.map(p.value);
    const scale = (v: number): number => (p.log ? Math.log10(1 + Math.max(0, v)) : Math.max(0, v));
    const max = Math.max(...values.map(scale), 1e-9);
    out.push(`<text x="${x0}" y="${top - 10}" font-weight="bold">${p.title}</text>`);
    out.push(`<line x1="${x0}" y1="${top - 4}" x2="${x0}" y2="${top + rows.length * rowH}" stroke="#999"/>`);
    rows.forEach((r, i) => {
      const v = values[i]!;
      const w = Math.max(1, (scale(v) / max) * (panel - 60));
      const y = top + i * rowH;
      out.push(`<rect x="${x0}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colors[r.kind]}"/>`);
      out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + 14}">${escape(p.text(v))}</text>`);
    });
  });
  const legendY = top + rows.length * rowH + 24;
  Object.entries(colors).forEach(([kind, color], i) => {
    const x = label + i * 120;
    out.push(`<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${color}"/>`);
    out.push(`<text x="${x + 16}" y="${legendY}">${kind}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export async function run(): Promise<StrategyRow[]> {
  const waits = new Float64Array(TOTAL); // allocated before any baseline heap reading
  const rows = strategies.map((strategy) => measure(strategy, waits));
  const base = rows[0]!;
  console.log(
    `\n## strategies: seed overload, ${TOTAL} values offered at 10 000/s, consumer 100/s (virtual time, ${DURATION / 1000} s)`,
  );
  console.table(
    rows.map((r) => ({
      strategy: r.strategy,
      offered: r.offered,
      'delivered/s': r.deliveredPerSecond.toFixed(1),
      'drop rate': `${(r.dropRate * 100).toFixed(2)}%`,
      'queued at end': r.queuedAtEnd,
      'p50 wait': `${r.p50WaitMs.toFixed(0)} ms`,
      'p99 wait': `${r.p99WaitMs.toFixed(0)} ms`,
      'peak heap': `${r.peakHeapMB.toFixed(1)} MB`,
      'heap vs concatMap': r === base ? 'baseline' : `${(r.peakHeapMB / base.peakHeapMB).toFixed(3)}x`,
      'CPU (run)': `${r.cpuMs.toFixed(0)} ms`,
      'CPU vs concatMap': r === base ? 'baseline' : `${(r.cpuMs / base.cpuMs).toFixed(3)}x`,
    })),
  );
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'strategies.svg');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, chart(rows));
  console.log(`chart: ${file}`);
  save([], { strategies: rows });
  await Promise.resolve();
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
