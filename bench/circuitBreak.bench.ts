/**
 * circuitBreak per-call overhead (issue 4), against opossum@9 `fire` and cockatiel@3 `execute` in the same run.
 *
 * Every case makes K calls per sample, sequentially, on a closed circuit. The overhead of a breaker is its time per
 * call minus the time of the same bare call without it:
 * - circuitBreak, synchronous: `of(1).pipe(circuitBreak(breaker)).subscribe()` minus `of(1).subscribe()`;
 * - circuitBreak, around a resolved promise: `await lastValueFrom(from(f()).pipe(circuitBreak(b)))` minus the same
 *   without the operator;
 * - opossum / cockatiel: `await breaker.fire()` / `await policy.execute(f)` minus `await f()`,
 * with `f = () => Promise.resolve(1)`. opossum runs with `timeout: false` (no timer per call, like circuitBreak
 * without `callTimeout`) and, separately, with its default 10 s timeout against circuitBreak with `callTimeout`.
 * Goal: circuitBreak's overhead at most half of opossum's and below cockatiel's.
 *
 * For context, the same two calls through `map(x => x)`: what any rxjs operator adds to a subscription (an Observable
 * from `pipe`, a subscriber, its teardown). circuitBreak cannot cost less than that floor and still be an operator.
 *
 * circuitBreak is the shipped build (dist/, through the package's exports); opossum and cockatiel are loaded from
 * node_modules as they ship.
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/circuitBreak.bench.ts
 */
import { from, lastValueFrom, map, of } from 'rxjs';
import { ConsecutiveBreaker, circuitBreaker as cockatielBreaker, handleAll } from 'cockatiel';
import Opossum from 'opossum';
import { pathToFileURL } from 'node:url';
import { CircuitBreaker, circuitBreak } from 'rxjs-backpressure';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const K = 1_000;
let sink = 0;
const observer = {
  next: (v: number): void => {
    sink += v;
  },
};
const trivial = (): Promise<number> => Promise.resolve(1);

function syncCalls(call: () => void): () => void {
  return () => {
    for (let i = 0; i < K; i++) call();
  };
}

function asyncCalls(call: () => Promise<number>): () => Promise<void> {
  return async () => {
    for (let i = 0; i < K; i++) sink += await call();
  };
}

export async function run(): Promise<BenchRow[]> {
  const guard = circuitBreak<number>(new CircuitBreaker({}));
  const guardWithTimeout = circuitBreak<number>(new CircuitBreaker({ callTimeout: 10_000 }));
  const source = of(1);
  const guarded = source.pipe(guard);
  const guardedWithTimeout = source.pipe(guardWithTimeout);
  const identity = map((x: number) => x);
  const mapped = source.pipe(identity);
  const opossum = new Opossum(trivial, { timeout: false });
  const opossumDefault = new Opossum(trivial);
  const cockatiel = cockatielBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) });

  const names = {
    bareSync: 'bare of(1).subscribe()',
    sync: 'of(1).pipe(circuitBreak(breaker)).subscribe()',
    syncTimeout: 'of(1).pipe(circuitBreak({ callTimeout: 10000 }))',
    syncMap: 'of(1).pipe(map(x => x)).subscribe() [any operator]',
    bareRx: 'bare await lastValueFrom(from(f()))',
    rx: 'await lastValueFrom(from(f()).pipe(circuitBreak(breaker)))',
    rxTimeout: 'await lastValueFrom(from(f()).pipe(circuitBreak({ callTimeout: 10000 })))',
    rxMap: 'await lastValueFrom(from(f()).pipe(map(x => x))) [any operator]',
    bareAwait: 'bare await f()',
    opossum: 'opossum await fire() (timeout: false)',
    opossumDefault: 'opossum await fire() (default timeout 10000)',
    cockatiel: 'cockatiel await execute(f)',
  };
  const rows = await compare(
    'circuitBreak: per-call cost on a closed circuit vs opossum and cockatiel',
    { name: names.bareSync, fn: syncCalls(() => source.subscribe(observer)), values: K },
    [
      { name: names.sync, fn: syncCalls(() => guarded.subscribe(observer)), values: K },
      { name: names.syncTimeout, fn: syncCalls(() => guardedWithTimeout.subscribe(observer)), values: K },
      { name: names.syncMap, fn: syncCalls(() => mapped.subscribe(observer)), values: K },
      { name: names.bareRx, fn: asyncCalls(() => lastValueFrom(from(trivial()))), values: K },
      { name: names.rx, fn: asyncCalls(() => lastValueFrom(from(trivial()).pipe(guard))), values: K },
      {
        name: names.rxTimeout,
        fn: asyncCalls(() => lastValueFrom(from(trivial()).pipe(guardWithTimeout))),
        values: K,
      },
      { name: names.rxMap, fn: asyncCalls(() => lastValueFrom(from(trivial()).pipe(identity))), values: K },
      { name: names.bareAwait, fn: asyncCalls(trivial), values: K },
      { name: names.opossum, fn: asyncCalls(() => opossum.fire()), values: K },
      { name: names.opossumDefault, fn: asyncCalls(() => opossumDefault.fire()), values: K },
      { name: names.cockatiel, fn: asyncCalls(() => cockatiel.execute(trivial)), values: K },
    ],
  );
  opossum.shutdown();
  opossumDefault.shutdown();

  const ns = (name: string): number => rows.find((r) => r.name === name)!.ns;
  const overhead = {
    'circuitBreak (sync of(1))': ns(names.sync) - ns(names.bareSync),
    'circuitBreak (sync, callTimeout)': ns(names.syncTimeout) - ns(names.bareSync),
    'circuitBreak (around a promise)': ns(names.rx) - ns(names.bareRx),
    'circuitBreak (around a promise, callTimeout)': ns(names.rxTimeout) - ns(names.bareRx),
    'map(x => x) (sync of(1)) [any operator]': ns(names.syncMap) - ns(names.bareSync),
    'map(x => x) (around a promise) [any operator]': ns(names.rxMap) - ns(names.bareRx),
    'opossum fire (timeout: false)': ns(names.opossum) - ns(names.bareAwait),
    'opossum fire (default timeout)': ns(names.opossumDefault) - ns(names.bareAwait),
    'cockatiel execute': ns(names.cockatiel) - ns(names.bareAwait),
  };
  const o = overhead;
  const ratios = {
    'circuitBreak sync / opossum (goal <= 0.5)': o['circuitBreak (sync of(1))'] / o['opossum fire (timeout: false)'],
    'circuitBreak sync / cockatiel (goal < 1)': o['circuitBreak (sync of(1))'] / o['cockatiel execute'],
    'circuitBreak around a promise / opossum':
      o['circuitBreak (around a promise)'] / o['opossum fire (timeout: false)'],
    'circuitBreak around a promise / cockatiel': o['circuitBreak (around a promise)'] / o['cockatiel execute'],
    'circuitBreak around a promise, callTimeout / opossum default timeout':
      o['circuitBreak (around a promise, callTimeout)'] / o['opossum fire (default timeout)'],
    'circuitBreak sync / map(x => x) (context)':
      o['circuitBreak (sync of(1))'] / o['map(x => x) (sync of(1)) [any operator]'],
    'circuitBreak around a promise / map(x => x) (context)':
      o['circuitBreak (around a promise)'] / o['map(x => x) (around a promise) [any operator]'],
    'map(x => x) sync / cockatiel (context)': o['map(x => x) (sync of(1)) [any operator]'] / o['cockatiel execute'],
  };
  print(rows);
  console.table(
    Object.entries(overhead).map(([breaker, n]) => ({ breaker, 'overhead per call': `${n.toFixed(1)} ns` })),
  );
  console.table(Object.entries(ratios).map(([ratio, r]) => ({ ratio, value: r.toFixed(3) })));
  save(rows, { circuitBreakOverheadNs: overhead, circuitBreakOverheadRatios: ratios });
  if (sink === -1) console.log(sink);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
