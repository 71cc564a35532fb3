/**
 * The seed scenario (a producer of 10 000 values/s against a consumer of 100 values/s) through shedByPriority and
 * adaptiveBuffer, with dropOnFull as the reference.
 *
 *   npx tsx examples/priority-and-adaptive.ts             # 20 s of virtual time, about a second
 *   npx tsx examples/priority-and-adaptive.ts --real      # the same code on asyncScheduler, 5 s of real time
 *   npx tsx examples/priority-and-adaptive.ts --seconds 20
 */
import { Observable, VirtualTimeScheduler, asyncScheduler, concatMap, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscription } from 'rxjs';
import { Demand, QueueMetrics, adaptiveBuffer, dropOnFull, shedByPriority } from 'rxjs-backpressure';

const args = process.argv.slice(2);
const real = args.includes('--real');
const secondsArg = args.indexOf('--seconds');
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : real ? 5 : 20;
if (!(seconds > 0)) throw new RangeError(`--seconds must be a positive number, got ${args[secondsArg + 1]}`);

const PRODUCER_RATE = 10_000; // values per second
const WORK_MS = 10; // one value per 10 ms: 100 values per second
const TICK_MS = 10; // the producer emits in batches every 10 ms
const LEVELS = ['low', 'medium', 'high'] as const;
type Level = (typeof LEVELS)[number];

interface Item {
  id: number;
  level: Level;
  producedAt: number;
}

/** 0.5% high (50/s), 2% medium (200/s), the rest low: a fixed pattern, so every run is the same. */
function levelOf(id: number): Level {
  const k = id % 200;
  return k === 0 ? 'high' : k <= 4 ? 'medium' : 'low';
}

/** A push producer at PRODUCER_RATE whatever the consumer does (each tick is a fresh action). */
function producer(scheduler: SchedulerLike): Observable<Item> {
  return new Observable<Item>((subscriber) => {
    const start = scheduler.now();
    let produced = 0;
    let action: Subscription;
    const tick = (): void => {
      const due = Math.floor(((scheduler.now() - start) * PRODUCER_RATE) / 1000) + (PRODUCER_RATE * TICK_MS) / 1000;
      while (produced < due && !subscriber.closed) {
        const id = produced++;
        subscriber.next({ id, level: levelOf(id), producedAt: scheduler.now() });
      }
      if (!subscriber.closed) action = scheduler.schedule(tick, TICK_MS);
    };
    action = scheduler.schedule(tick);
    return () => action.unsubscribe();
  });
}

interface Outcome {
  delivered: Record<Level, number>;
  dropped: Record<Level, number>;
  waits: Record<Level, number[]>;
  /** Waits of values the consumer took in the last quarter of the run. */
  lateWaits: number[];
  capacities: { at: number; capacity: number }[];
  metrics: QueueMetrics;
}

/** Runs producer -> operator -> consumer (10 ms per value, one at a time) for `seconds`. */
async function simulate(
  operator: (demand: Demand, metrics: QueueMetrics, outcome: Outcome) => MonoTypeOperatorFunction<Item>,
): Promise<Outcome> {
  const scheduler: SchedulerLike = real ? asyncScheduler : new VirtualTimeScheduler();
  const metrics = new QueueMetrics({ scheduler });
  const zero = (): Record<Level, number> => ({ low: 0, medium: 0, high: 0 });
  const outcome: Outcome = {
    delivered: zero(),
    dropped: zero(),
    waits: { low: [], medium: [], high: [] },
    lateWaits: [],
    capacities: [],
    metrics,
  };
  const demand = new Demand();
  const start = scheduler.now();
  const subscription = producer(scheduler)
    .pipe(
      operator(demand, metrics, outcome),
      demand.drain((item) => {
        const wait = scheduler.now() - item.producedAt;
        outcome.waits[item.level].push(wait);
        if (scheduler.now() - start > seconds * 750) outcome.lateWaits.push(wait);
        return timer(WORK_MS, scheduler).pipe(concatMap(() => (outcome.delivered[item.level]++, [item])));
      }),
    )
    .subscribe();
  await new Promise<void>((resolve) => {
    scheduler.schedule(() => {
      subscription.unsubscribe();
      resolve();
    }, seconds * 1000);
    if (scheduler instanceof VirtualTimeScheduler) scheduler.flush();
  });
  for (const c of outcome.capacities) c.at = (c.at - start) / 1000;
  return outcome;
}

function p99(waits: number[]): string {
  if (waits.length === 0) return '-';
  const sorted = [...waits].sort((a, b) => a - b);
  return `${(sorted[Math.ceil(0.99 * sorted.length) - 1]! / 1000).toFixed(2)} s`;
}

async function main(): Promise<void> {
  console.log(
    `Producer ${PRODUCER_RATE}/s (high 50/s, medium 200/s, the rest low) vs consumer ${1000 / WORK_MS}/s, ` +
      `${seconds} s of ${real ? 'real' : 'virtual'} time per run\n`,
  );

  const fifo = await simulate((demand, metrics, o) =>
    dropOnFull({
      capacity: 100,
      demand,
      metrics,
      scheduler: metrics.scheduler,
      onDrop: (d) => o.dropped[d.value.level]++,
    }),
  );
  const priority = await simulate((demand, metrics, o) =>
    shedByPriority({
      capacity: 100,
      priority: (item: Item) => LEVELS.indexOf(item.level),
      demand,
      metrics,
      scheduler: metrics.scheduler,
      onDrop: (d) => o.dropped[d.value.level]++,
    }),
  );
  console.log('shedByPriority({ capacity: 100 }) vs dropOnFull({ capacity: 100 }): per priority level');
  console.table(
    LEVELS.slice()
      .reverse()
      .map((level) => ({
        level,
        'priority: delivered': priority.delivered[level],
        'priority: dropped': priority.dropped[level],
        'priority: p99 wait': p99(priority.waits[level]),
        'fifo: delivered': fifo.delivered[level],
        'fifo: dropped': fifo.dropped[level],
        'fifo: p99 wait': p99(fifo.waits[level]),
      })),
  );

  const targetLatency = 200;
  const rows = [];
  for (const [name, run] of [
    [
      'dropOnFull({ capacity: 1000 })',
      (demand: Demand, metrics: QueueMetrics) =>
        dropOnFull<Item>({ capacity: 1000, demand, metrics, scheduler: metrics.scheduler }),
    ],
    [
      `adaptiveBuffer({ 10..1000, targetLatency: ${targetLatency}, interval: 250 })`,
      (demand: Demand, metrics: QueueMetrics, o: Outcome) =>
        adaptiveBuffer<Item>({
          minCapacity: 10,
          maxCapacity: 1000,
          targetLatency,
          interval: 250,
          demand,
          metrics,
          scheduler: metrics.scheduler,
          onCapacity: (capacity) => o.capacities.push({ at: metrics.scheduler.now(), capacity }),
        }),
    ],
    [
      `adaptiveBuffer({ ..., initialCapacity: 10 })`,
      (demand: Demand, metrics: QueueMetrics, o: Outcome) =>
        adaptiveBuffer<Item>({
          minCapacity: 10,
          maxCapacity: 1000,
          initialCapacity: 10,
          targetLatency,
          interval: 250,
          demand,
          metrics,
          scheduler: metrics.scheduler,
          onCapacity: (capacity) => o.capacities.push({ at: metrics.scheduler.now(), capacity }),
        }),
    ],
  ] as const) {
    const o = await simulate(run);
    const snap = o.metrics.snapshot();
    const all = [...o.waits.low, ...o.waits.medium, ...o.waits.high];
    rows.push({
      strategy: name,
      delivered: all.length,
      dropped: snap.dropped,
      'p99 wait': p99(all),
      'p99 wait, last quarter': p99(o.lateWaits),
      'capacity path': o.capacities.length
        ? `-> ${o.capacities.map((c) => c.capacity).join(' -> ')} (last change at ${o.capacities.at(-1)!.at.toFixed(0)} s)`
        : 'fixed',
    });
  }
  console.log(`\nadaptiveBuffer vs a fixed capacity (target: p99 queue wait of ${targetLatency} ms)`);
  console.table(rows);
  console.log(
    'Reading the tables: shedByPriority sheds low first, then medium, and keeps high flowing with a short wait; ' +
      'adaptiveBuffer shrinks the queue until the wait is near the target, where a fixed 1000 keeps values waiting 10 s; ' +
      'shrinking never drops what is queued, so starting full at 1000 it takes 1000 / 100 per s = 10 s to drain the excess ' +
      '(start with a small initialCapacity when overload is expected).',
  );
}

void main();
