/**
 * The seed scenario: a producer of 10 000 values/s against a consumer of 100 values/s, through each strategy.
 *
 *   npm start                    # real time, a few seconds per strategy, with a live progress line
 *   npm start -- --virtual       # the same in virtual time, in well under a second
 *   npm start -- --seconds 5     # longer real-time runs
 *
 * Every strategy runs on one scheduler (asyncScheduler, or a VirtualTimeScheduler with --virtual), so the two modes
 * run the very same code. Each run stops after its duration: what is still queued then is shown as "left queued".
 */
import { Observable, VirtualTimeScheduler, asyncScheduler, concatMap, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscription } from 'rxjs';
import {
  Demand,
  QueueMetrics,
  adaptiveBuffer,
  bufferBounded,
  dropOnFull,
  isBufferOverflowError,
  pull,
  shedByPriority,
} from 'rxjs-backpressure';
import type { DropReason } from 'rxjs-backpressure';

const args = process.argv.slice(2);
const virtual = args.includes('--virtual');
const secondsArg = args.indexOf('--seconds');
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2;
if (!(seconds > 0)) throw new RangeError(`--seconds must be a positive number, got ${args[secondsArg + 1]}`);

const PRODUCER_RATE = 10_000; // values per second
const WORK_MS = 10; // the consumer handles one value per 10 ms: 100 values per second
const TICK_MS = 10; // the producer emits in 10 ms batches of 100

interface Item {
  id: number;
  producedAt: number;
}

interface Stats {
  produced: number;
  started: number;
  delivered: number;
  waits: number[];
  peakQueued: number;
  heapBase: number;
  peakHeap: number;
  outcome: string;
}

interface Strategy {
  name: string;
  /** Wires producer -> strategy -> consumer; returns the subscription and, for our operators, their metrics. */
  run(ctx: Context): { subscription: Subscription; metrics?: QueueMetrics };
}

interface Context {
  scheduler: SchedulerLike;
  stats: Stats;
  /** A push producer: 10 000 values/s whatever the consumer does. */
  push(): Observable<Item>;
  /** A pull producer: makes a value only when asked. */
  lazy(): Iterable<Item>;
  /** The consumer's work: 10 ms per value. */
  work(item: Item): Observable<Item>;
}

function context(scheduler: SchedulerLike, stats: Stats): Context {
  const make = (): Item => ({ id: stats.produced++, producedAt: scheduler.now() });
  return {
    scheduler,
    stats,
    push: () =>
      new Observable<Item>((subscriber) => {
        const start = scheduler.now();
        // Each tick schedules the next as a fresh action (a VirtualAction rescheduling itself nests one per tick).
        let action: Subscription;
        const tick = (): void => {
          const due = Math.floor(((scheduler.now() - start) * PRODUCER_RATE) / 1000) + TICK_MS * 10;
          while (stats.produced < due && !subscriber.closed) subscriber.next(make());
          if (!subscriber.closed) action = scheduler.schedule(tick, TICK_MS);
        };
        action = scheduler.schedule(tick);
        return () => action.unsubscribe();
      }),
    lazy: function* () {
      for (;;) yield make();
    },
    work: (item) => {
      stats.started++;
      stats.waits.push(scheduler.now() - item.producedAt);
      return timer(WORK_MS, scheduler).pipe(concatMap(() => (stats.delivered++, [item])));
    },
  };
}

/** A queue operator fed by the push producer and drained by the consumer through a Demand. */
function pushThrough(
  operator: (demand: Demand, metrics: QueueMetrics) => MonoTypeOperatorFunction<Item>,
): Strategy['run'] {
  return (ctx) => {
    const demand = new Demand();
    const metrics = new QueueMetrics({ scheduler: ctx.scheduler });
    const subscription = ctx
      .push()
      .pipe(operator(demand, metrics), demand.drain(ctx.work))
      .subscribe({ error: (e: unknown) => failed(ctx, e) });
    return { subscription, metrics };
  };
}

function failed(ctx: Context, error: unknown): void {
  const at = (ctx.scheduler.now() - runStart) / 1000;
  ctx.stats.outcome = isBufferOverflowError(error)
    ? `BufferOverflowError at ${at.toFixed(2)} s (fails loudly)`
    : `error: ${String(error)}`;
}
let runStart = 0;

const strategies: Strategy[] = [
  {
    name: 'concatMap, no bound (the mistake)',
    run: (ctx) => ({
      subscription: ctx.push().pipe(concatMap(ctx.work)).subscribe(),
    }),
  },
  {
    name: 'blocking: pull() + demand.drain()',
    run: (ctx) => {
      const demand = new Demand();
      return { subscription: pull(ctx.lazy(), demand).pipe(demand.drain(ctx.work)).subscribe() };
    },
  },
  {
    name: 'buffering: bufferBounded(1000) + upstream',
    run: (ctx) => {
      const upstream = new Demand();
      const demand = new Demand();
      const metrics = new QueueMetrics({ scheduler: ctx.scheduler });
      const subscription = pull(ctx.lazy(), upstream)
        .pipe(
          bufferBounded({ capacity: 1000, upstream, demand, metrics, scheduler: ctx.scheduler }),
          demand.drain(ctx.work),
        )
        .subscribe();
      return { subscription, metrics };
    },
  },
  {
    name: 'buffering: bufferBounded(1000), push source',
    run: pushThrough((demand, metrics) =>
      bufferBounded({ capacity: 1000, demand, metrics, scheduler: metrics.scheduler }),
    ),
  },
  ...(['drop-incoming', 'drop-oldest', 'drop-newest', 'drop-buffer'] as const).map((overflow): Strategy => ({
    name: `dropping: dropOnFull(100, ${overflow})`,
    run: pushThrough((demand, metrics) =>
      dropOnFull({ capacity: 100, overflow, demand, metrics, scheduler: metrics.scheduler }),
    ),
  })),
  {
    name: 'shedding: shedByPriority(100, 3 levels)',
    run: pushThrough((demand, metrics) =>
      shedByPriority({ capacity: 100, priority: (item) => item.id % 3, demand, metrics, scheduler: metrics.scheduler }),
    ),
  },
  {
    name: 'adaptive: adaptiveBuffer(10..1000, 200 ms)',
    run: pushThrough((demand, metrics) =>
      adaptiveBuffer({
        minCapacity: 10,
        maxCapacity: 1000,
        initialCapacity: 10,
        targetLatency: 200,
        interval: 250,
        demand,
        metrics,
        scheduler: metrics.scheduler,
      }),
    ),
  },
  {
    name: 'dropping: dropOnFull(100, earlyDrop f²)',
    run: pushThrough((demand, metrics) =>
      dropOnFull({ capacity: 100, earlyDrop: (f) => f * f, demand, metrics, scheduler: metrics.scheduler }),
    ),
  },
];

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

/**
 * A full GC in real time. In virtual time a scavenge only (about 1 ms instead of 50): short-lived garbage such as
 * dropped values dies young, while what a strategy retains has been promoted and still counts.
 */
function gc(): void {
  (globalThis as { gc?: (options?: { type: 'major' | 'minor' }) => void }).gc?.(
    virtual ? { type: 'minor' } : undefined,
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Row {
  strategy: string;
  produced: number;
  delivered: number;
  dropped: string;
  'peak queued': number;
  'left queued': number;
  'p99 wait': string;
  'heap growth': string;
  outcome: string;
}

async function runOne(strategy: Strategy): Promise<Row> {
  gc();
  const scheduler: SchedulerLike = virtual ? new VirtualTimeScheduler() : asyncScheduler;
  const stats: Stats = {
    produced: 0,
    started: 0,
    delivered: 0,
    waits: [],
    peakQueued: 0,
    heapBase: heapUsed(),
    peakHeap: 0,
    outcome: 'ran to the end',
  };
  stats.peakHeap = stats.heapBase;
  const ctx = context(scheduler, stats);
  runStart = scheduler.now();
  const { subscription, metrics } = strategy.run(ctx);
  const queued = (): number => (metrics ? metrics.depth : Math.max(0, stats.produced - stats.started));
  let ticks = 0;
  let sampling: Subscription;
  const sample = (): void => {
    stats.peakQueued = Math.max(stats.peakQueued, queued());
    // Retained heap: sampled after a GC every 500 ms of scheduler time (garbage from dropped values is not growth).
    if (ticks++ % (virtual ? 50 : 5) === 0) {
      gc();
      stats.peakHeap = Math.max(stats.peakHeap, heapUsed());
    }
    if (!virtual && process.stdout.isTTY) {
      const t = ((scheduler.now() - runStart) / 1000).toFixed(1);
      process.stdout.write(
        `\r  ${strategy.name.padEnd(44)} t=${t}s produced=${stats.produced} delivered=${stats.delivered} queued=${queued()}   `,
      );
    }
    sampling = scheduler.schedule(sample, virtual ? 10 : 100);
  };
  sampling = scheduler.schedule(sample, 0);
  let leftQueued = 0;
  let droppedBy: Partial<Record<DropReason, number>> = {};
  await new Promise<void>((resolve) => {
    scheduler.schedule(() => {
      stats.peakQueued = Math.max(stats.peakQueued, queued());
      leftQueued = queued();
      gc();
      stats.peakHeap = Math.max(stats.peakHeap, heapUsed());
      if (metrics) {
        const snap = metrics.snapshot();
        droppedBy = Object.fromEntries(Object.entries(snap.droppedBy).filter(([, n]) => n > 0));
      }
      sampling.unsubscribe();
      subscription.unsubscribe();
      resolve();
    }, seconds * 1000);
    if (scheduler instanceof VirtualTimeScheduler) scheduler.flush();
  });
  if (!virtual && process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  const waits = stats.waits.sort((a, b) => a - b);
  const dropped = Object.entries(droppedBy)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  return {
    strategy: strategy.name,
    produced: stats.produced,
    delivered: stats.delivered,
    dropped: dropped || '0',
    'peak queued': stats.peakQueued,
    'left queued': leftQueued,
    'p99 wait': `${(percentile(waits, 0.99) / 1000).toFixed(2)} s`,
    'heap growth': `${((stats.peakHeap - stats.heapBase) / 1024 / 1024).toFixed(1)} MB`,
    outcome: stats.outcome,
  };
}

async function main(): Promise<void> {
  console.log(
    `Producer ${PRODUCER_RATE}/s vs consumer ${1000 / WORK_MS}/s, ${seconds} s ${virtual ? 'of virtual time' : 'of real time'} per strategy` +
      ((globalThis as { gc?: unknown }).gc ? '' : ' (run with node --expose-gc for steadier heap figures)'),
  );
  const started = process.hrtime.bigint();
  const rows: Row[] = [];
  for (const strategy of strategies) {
    const t0 = process.hrtime.bigint();
    rows.push(await runOne(strategy));
    if (process.env['DEMO_TIMING']) console.log(strategy.name, Number((process.hrtime.bigint() - t0) / 1000000n), 'ms');
  }
  console.table(rows);
  console.log(`(${Number((process.hrtime.bigint() - started) / 1_000_000n)} ms of wall time for the runs)`);
  console.log(
    'Reading the table: concatMap keeps everything (queue and wait grow with time); blocking slows the producer to the ' +
      'consumer; bufferBounded is lossless and either blocks a pull producer or fails loudly on a push one; dropOnFull ' +
      'keeps the queue and the wait bounded and reports every drop with its reason.',
  );
}

void main();
