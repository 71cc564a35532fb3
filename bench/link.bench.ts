/**
 * What the link's pause after 4096 swallowed values in a row costs a `filter` between `pull()` and `drain`
 * (docs/choices.md, "Queues and demand"), against plain rxjs in the same run.
 *
 * Each call pushes N values of an array through `filter` and into the consumer:
 * - baseline: plain rxjs, `from(array).pipe(filter(keep), mergeMap(project, 4))`: no demand, nothing paced;
 * - `pull(array).pipe(filter(keep), drain(project, { concurrency: 4 }))` with a filter that lets half the values
 *   through, one in a thousand (runs of 4096 dropped values are rare: e^-4 of the gaps), and none (every 4096th
 *   swallowed value waits for a 1 ms pause).
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/link.bench.ts
 */
import { filter, from, mergeMap, of } from 'rxjs';
import type { Observable } from 'rxjs';
import { drain, pull } from 'rxjs-backpressure';
import { compare, print, save } from './harness.js';

const N = 100_000;
const input = Array.from({ length: N }, (_, i) => i);
const project = (x: number): Observable<number> => of(x);

function run(source: Observable<number>): Promise<void> {
  return new Promise((resolve, reject) => source.subscribe({ error: reject, complete: resolve }));
}

/** Lets through the values whose index is a multiple of `every` (every = Infinity: none). */
const keep = (every: number) => (x: number) => x % every === every - 1;

const rows = await compare(
  `filter between producer and consumer (${N} values a call)`,
  {
    name: 'rxjs: from(array), filter (1 in 1000), mergeMap(of, 4)',
    fn: () => run(from(input).pipe(filter(keep(1000)), mergeMap(project, 4))),
    values: N,
  },
  [
    {
      name: 'rxjs: from(array), filter (none), mergeMap(of, 4)',
      fn: () => run(from(input).pipe(filter(keep(Infinity)), mergeMap(project, 4))),
      values: N,
    },
    {
      name: 'pull(array), filter (1 in 2), drain(of, 4)',
      fn: () => run(pull(input).pipe(filter(keep(2)), drain(project, { concurrency: 4 }))),
      values: N,
    },
    {
      name: 'pull(array), filter (1 in 1000), drain(of, 4)',
      fn: () => run(pull(input).pipe(filter(keep(1000)), drain(project, { concurrency: 4 }))),
      values: N,
    },
    {
      name: 'pull(array), filter (none: a pause per 4096), drain(of, 4)',
      fn: () => run(pull(input).pipe(filter(keep(Infinity)), drain(project, { concurrency: 4 }))),
      values: N,
    },
  ],
);
print(rows);
save(rows);
