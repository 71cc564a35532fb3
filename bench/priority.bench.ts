/**
 * shedByPriority and adaptiveBuffer benchmarks (issue 5), against dropOnFull in the same run:
 * - per-value cost of shedByPriority with 3 and with 100 priority levels vs dropOnFull, on a full queue under overload;
 * - per-value cost of adaptiveBuffer vs dropOnFull in the same situation.
 *
 * "Full queue under overload": a subscribed queue of capacity 1000, already full; each call pushes N values and grants
 * one credit per two arrivals (the producer runs at twice the consumer's rate), so every arrival meets a full queue
 * and is queued, evicts or is dropped, and half of them are delivered.
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/priority.bench.ts
 */
import { Subject } from 'rxjs';
import type { MonoTypeOperatorFunction, Subscription } from 'rxjs';
import { Demand, adaptiveBuffer, dropOnFull, shedByPriority } from 'rxjs-backpressure';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const N = 10_000;
const CAPACITY = 1000;
const noop = (): void => undefined;
/** Every queue subscribed here, released at the end (adaptiveBuffer's timer would keep the process alive). */
const subscriptions: Subscription[] = [];

/** Pseudo-random priorities in [0, levels), fixed per run (a linear congruential sequence, no Math.random drift). */
function ranks(levels: number): Int32Array {
  const out = new Int32Array(N);
  let seed = 12345;
  for (let i = 0; i < N; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = seed % levels;
  }
  return out;
}

/** A subscribed queue, filled to capacity; each call pushes N values and requests N / 2. */
function overloaded(operator: (demand: Demand) => MonoTypeOperatorFunction<number>): () => void {
  const source = new Subject<number>();
  const demand = new Demand();
  subscriptions.push(source.pipe(operator(demand)).subscribe(noop));
  for (let i = 0; i < CAPACITY; i++) source.next(i);
  return () => {
    for (let i = 0; i < N; i += 2) {
      source.next(i);
      source.next(i + 1);
      demand.request(1);
    }
  };
}

function byPriority(levels: number): (demand: Demand) => MonoTypeOperatorFunction<number> {
  const rank = ranks(levels);
  return (demand) => shedByPriority<number>({ capacity: CAPACITY, priority: (i) => rank[i % N]!, demand });
}

async function priority(): Promise<BenchRow[]> {
  return compare(
    'shedByPriority: full queue (capacity 1000) under 2x overload, per value',
    {
      name: "dropOnFull({ overflow: 'drop-oldest' })",
      fn: overloaded((demand) => dropOnFull({ capacity: CAPACITY, overflow: 'drop-oldest', demand })),
      values: N,
    },
    [
      {
        name: 'dropOnFull() (drop-incoming)',
        fn: overloaded((demand) => dropOnFull({ capacity: CAPACITY, demand })),
        values: N,
      },
      { name: 'shedByPriority, 3 levels', fn: overloaded(byPriority(3)), values: N },
      { name: 'shedByPriority, 100 levels', fn: overloaded(byPriority(100)), values: N },
    ],
    { goal: 'cost independent of queued values; 100 levels close to 3' },
  );
}

async function adaptive(): Promise<BenchRow[]> {
  // The controller's adjustment runs once a second on asyncScheduler; a long target keeps the capacity at 1000, so
  // the rows compare the same queue work plus adaptiveBuffer's per-value wait tracking (a clock read per queued value).
  const adaptiveCase = (overflow: 'drop-incoming' | 'drop-oldest'): (() => void) =>
    overloaded((demand) =>
      adaptiveBuffer<number>({ minCapacity: 10, maxCapacity: CAPACITY, targetLatency: 60_000, overflow, demand }),
    );
  return compare(
    'adaptiveBuffer: full queue (capacity 1000) under 2x overload, per value',
    {
      name: "dropOnFull({ overflow: 'drop-oldest' })",
      fn: overloaded((demand) => dropOnFull({ capacity: CAPACITY, overflow: 'drop-oldest', demand })),
      values: N,
    },
    [
      {
        name: 'dropOnFull() (drop-incoming)',
        fn: overloaded((demand) => dropOnFull({ capacity: CAPACITY, demand })),
        values: N,
      },
      { name: "adaptiveBuffer({ overflow: 'drop-oldest' })", fn: adaptiveCase('drop-oldest'), values: N },
      { name: 'adaptiveBuffer() (drop-incoming)', fn: adaptiveCase('drop-incoming'), values: N },
    ],
    { goal: '<= 1.5x dropOnFull' },
  );
}

export async function run(): Promise<BenchRow[]> {
  const rows = [...(await priority()), ...(await adaptive())];
  for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
  print(rows);
  save(rows);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) void run();
