/**
 * Queue engine benchmarks (issue 2), each against a baseline in the same run:
 * - fast path: ns/value of each queue operator with unbounded demand vs `map(x => x)` (goal <= 1.25x);
 * - size independence: drop-oldest on a full queue at capacity 10^6 vs 10^2 (goal within 1.3x);
 * - memory: retained heap of the seed overload (producer 100x the consumer, 2 x 10^5 values) per strategy vs concatMap
 *   (bench/strategies.bench.ts runs the 10^6-value version for every strategy).
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/queue.bench.ts
 */
import { Observable, Subject, VirtualTimeScheduler, concatMap, map, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, Subscription } from 'rxjs';
import { Demand, QueueMetrics, bufferBounded, dropOnFull, pull, shedByPriority } from 'rxjs-backpressure';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const N = 10_000;
const noop = (): void => undefined;

function syncSource(n: number): Observable<number> {
  return new Observable<number>((subscriber) => {
    for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next(i);
    subscriber.complete();
  });
}

function through(op: MonoTypeOperatorFunction<number>): () => void {
  const source = syncSource(N);
  return () => {
    source.pipe(op).subscribe(noop);
  };
}

async function fastPath(): Promise<BenchRow[]> {
  return compare(
    'fast path: unbounded demand, 10^4 values per call',
    { name: 'map(x => x)', fn: through(map((x) => x)), values: N },
    [
      { name: 'bufferBounded({ capacity: 100 })', fn: through(bufferBounded({ capacity: 100 })), values: N },
      { name: 'dropOnFull({ capacity: 100 })', fn: through(dropOnFull({ capacity: 100 })), values: N },
      {
        name: "dropOnFull({ capacity: 100, overflow: 'drop-oldest' })",
        fn: through(dropOnFull({ capacity: 100, overflow: 'drop-oldest' })),
        values: N,
      },
      {
        name: 'shedByPriority({ capacity: 100, priority })',
        fn: through(shedByPriority({ capacity: 100, priority: (x: number) => x & 3 })),
        values: N,
      },
    ],
    { goal: '<= 1.25x' },
  );
}

/** A subscribed drop-oldest queue that is already full; each call pushes N more values (N evictions). */
function fullQueue(capacity: number): () => void {
  const source = new Subject<number>();
  source.pipe(dropOnFull({ capacity, overflow: 'drop-oldest', demand: new Demand() })).subscribe();
  for (let i = 0; i < capacity; i++) source.next(i);
  return () => {
    for (let i = 0; i < N; i++) source.next(i);
  };
}

async function sizeIndependence(): Promise<BenchRow[]> {
  return compare(
    'drop-oldest on a full queue: capacity 10^6 vs 10^2',
    { name: 'capacity 10^2', fn: fullQueue(100), values: N },
    [{ name: 'capacity 10^6', fn: fullQueue(1_000_000), values: N }],
    { goal: 'within 1.3x' },
  );
}

interface MemoryRow {
  strategy: string;
  delivered: number;
  queuedAtEnd: number;
  retainedMB: number;
  vsConcatMap: string;
}

/**
 * The seed overload in virtual time: 10^6 values produced at 100x the consumer's rate. Retained heap is sampled after
 * a full GC ten times during the run; the peak growth over the starting heap is reported.
 */
function memory(): MemoryRow[] {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const TOTAL = 200_000; // concatMap pays an O(backlog) Array#shift per value: 10^6 would take ~30 s here
  const PRODUCE_PER_MS = 10; // 10 000/s
  const WORK_MS = 10; // 100/s: the producer is 100x faster
  const DURATION = TOTAL / PRODUCE_PER_MS;
  type Item = { id: number; payload: string };
  const strategies: [string, (scheduler: VirtualTimeScheduler) => [Observable<unknown>, () => number]][] = [
    [
      'concatMap (unbounded)',
      (s) => {
        let produced = 0;
        let started = 0;
        const out = producer(s, () => produced++).pipe(concatMap(() => (started++, timer(WORK_MS, s))));
        return [out, () => produced - started];
      },
    ],
    [
      'pull + drain (blocking)',
      (s) => {
        const demand = new Demand();
        let made = 0;
        function* items(): Generator<Item> {
          while (made < TOTAL) yield { id: made++, payload: `value ${made}` };
        }
        return [pull(items(), demand).pipe(demand.drain(() => timer(WORK_MS, s))), () => 0];
      },
    ],
    ...(
      [
        ['bufferBounded(1000) + upstream', 'upstream'],
        ['dropOnFull(1000, drop-incoming)', 'drop-incoming'],
        ['dropOnFull(1000, drop-oldest)', 'drop-oldest'],
        ['shedByPriority(1000, 3 levels)', 'priority'],
      ] as const
    ).map(([name, kind]): [string, (s: VirtualTimeScheduler) => [Observable<unknown>, () => number]] => [
      name,
      (s) => {
        const demand = new Demand();
        const metrics = new QueueMetrics({ scheduler: s });
        if (kind === 'upstream') {
          const upstream = new Demand();
          let made = 0;
          function* items(): Generator<Item> {
            while (made < TOTAL) yield { id: made++, payload: `value ${made}` };
          }
          const out = pull(items(), upstream).pipe(
            bufferBounded({ capacity: 1000, upstream, demand, metrics, scheduler: s }),
            demand.drain(() => timer(WORK_MS, s)),
          );
          return [out, () => metrics.depth];
        }
        const op: MonoTypeOperatorFunction<Item> =
          kind === 'priority'
            ? shedByPriority({ capacity: 1000, priority: (x: Item) => x.id % 3, demand, metrics, scheduler: s })
            : dropOnFull({ capacity: 1000, overflow: kind, demand, metrics, scheduler: s });
        let produced = 0;
        const out = producer(s, () => produced++).pipe(
          op,
          demand.drain(() => timer(WORK_MS, s)),
        );
        return [out, () => metrics.depth];
      },
    ]),
  ];

  function producer(s: VirtualTimeScheduler, next: () => number): Observable<Item> {
    // Each tick schedules the next as a fresh action: a VirtualAction that reschedules itself nests a child action
    // per tick, and 10^4 nested actions overflow the stack when unsubscribed.
    return new Observable<Item>((subscriber) => {
      let produced = 0;
      let action: Subscription;
      const tick = (): void => {
        for (let i = 0; i < PRODUCE_PER_MS * 10 && produced < TOTAL && !subscriber.closed; i++) {
          const id = next();
          produced++;
          subscriber.next({ id, payload: `value ${id}` });
        }
        if (produced < TOTAL && !subscriber.closed) action = s.schedule(tick, 10);
      };
      action = s.schedule(tick);
      return () => action.unsubscribe();
    });
  }

  const rows: MemoryRow[] = [];
  for (const [name, build] of strategies) {
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const s = new VirtualTimeScheduler();
    const [out, queued] = build(s);
    let delivered = 0;
    const subscription = out.subscribe(() => delivered++);
    for (let k = 1; k <= 10; k++) {
      s.schedule(
        () => {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
        },
        (DURATION * k) / 10 - 1,
      );
    }
    let queuedAtEnd = 0;
    s.schedule(() => {
      queuedAtEnd = queued();
      subscription.unsubscribe();
    }, DURATION);
    s.flush();
    rows.push({ strategy: name, delivered, queuedAtEnd, retainedMB: (peak - base) / 1024 / 1024, vsConcatMap: '' });
  }
  const baseline = rows[0]!.retainedMB;
  for (const row of rows) row.vsConcatMap = row === rows[0] ? 'baseline' : `${(row.retainedMB / baseline).toFixed(3)}x`;
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  const rows = [...(await fastPath()), ...(await sizeIndependence())];
  print(rows);
  const mem = memory();
  console.log('\n## memory: seed overload, 2 x 10^5 values, producer 100x consumer (retained heap after GC)');
  console.table(mem.map((r) => ({ ...r, retainedMB: r.retainedMB.toFixed(1) })));
  save(rows, { memory: mem });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) void run();
