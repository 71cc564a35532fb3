/**
 * Queue size independence with a full backlog, against RxJS `mergeMap(project, 1)` (issue 8).
 *
 * A consumer that handles one value at a time has a backlog of B values waiting. Each step the running inner
 * observable completes, so the oldest waiting value starts, and one value arrives: the backlog stays at B. Per value this costs an
 * enqueue, a dequeue and one inner subscription, on both sides:
 * - RxJS: `source.pipe(mergeMap(project, 1))` keeps its backlog in an array (push / shift);
 * - this library: `source.pipe(bufferBounded({ capacity: B, demand }), demand.drain(project))` keeps it in a ring
 *   buffer.
 * B = 10^2 and 10^6. V8 moves the whole array on `shift()` once it is large (about 10^5 elements and up), so mergeMap's
 * step grows with its backlog. Goal: the cost per value at 10^6 within 1.3x of the cost at 10^2 (O(1) enqueue and dequeue).
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/backlog.bench.ts
 */
import { Observable, Subject, mergeMap } from 'rxjs';
import type { OperatorFunction, Subscriber } from 'rxjs';
import { pathToFileURL } from 'node:url';
import { Demand, bufferBounded } from 'rxjs-backpressure';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const N = 10_000;

/**
 * Builds a pipeline whose backlog holds `backlog` values and returns one bench call: N steps of (one arrival, the
 * running inner completes, one value arrives).
 */
function steadyBacklog(
  backlog: number,
  consume: (project: () => Observable<never>) => OperatorFunction<number, never>,
  steps = N,
): () => void {
  let running: Subscriber<never> | undefined;
  const project = (): Observable<never> =>
    new Observable<never>((subscriber) => {
      running = subscriber;
    });
  const source = new Subject<number>();
  source.pipe(consume(project)).subscribe();
  for (let i = 0; i <= backlog; i++) source.next(i); // one running, `backlog` waiting
  return (): void => {
    for (let i = 0; i < steps; i++) {
      running!.complete();
      source.next(i);
    }
  };
}

const viaMergeMap =
  (project: () => Observable<never>): OperatorFunction<number, never> =>
  (source) =>
    source.pipe(mergeMap(project, 1));

const viaQueue =
  (capacity: number) =>
  (project: () => Observable<never>): OperatorFunction<number, never> =>
  (source) => {
    const demand = new Demand();
    return source.pipe(bufferBounded({ capacity, demand }), demand.drain(project));
  };

export async function run(): Promise<BenchRow[]> {
  const small = 100;
  const large = 1_000_000;
  const rows = await compare(
    'full backlog, one in one out: backlog 10^2 vs 10^6, bufferBounded + drain vs mergeMap(project, 1)',
    { name: 'mergeMap(project, 1), backlog 10^2', fn: steadyBacklog(small, viaMergeMap), values: N },
    [
      // Array#shift on a 10^6-element array moves the whole array (about 1 ms a step): 20 steps per call, not 10^4
      { name: 'mergeMap(project, 1), backlog 10^6', fn: steadyBacklog(large, viaMergeMap, 20), values: 20 },
      {
        name: 'bufferBounded + drain, backlog 10^2',
        fn: steadyBacklog(small, viaQueue(small)),
        values: N,
      },
      {
        name: 'bufferBounded + drain, backlog 10^6',
        fn: steadyBacklog(large, viaQueue(large)),
        values: N,
      },
    ],
    { rounds: 5, time: 150 },
  );
  const ns = (name: string): number => rows.find((r) => r.name === name)!.ns;
  const independence = {
    'mergeMap(project, 1): 10^6 / 10^2':
      ns('mergeMap(project, 1), backlog 10^6') / ns('mergeMap(project, 1), backlog 10^2'),
    'bufferBounded + drain: 10^6 / 10^2 (goal within 1.3x)':
      ns('bufferBounded + drain, backlog 10^6') / ns('bufferBounded + drain, backlog 10^2'),
    'bufferBounded + drain / mergeMap at 10^6':
      ns('bufferBounded + drain, backlog 10^6') / ns('mergeMap(project, 1), backlog 10^6'),
  };
  print(rows);
  console.table(
    Object.entries(independence).map(([ratio, value]) => ({
      ratio,
      value: `${value < 0.1 ? value.toPrecision(2) : value.toFixed(2)}x`,
    })),
  );
  save(rows, { backlogSizeIndependence: independence });
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
