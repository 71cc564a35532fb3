/**
 * throttleTokenBucket against its two named baselines, in the same run.
 *
 * 1. Drop mode vs rxjs `throttleTime`: 10^4 values pushed synchronously through a Subject per call into
 *    `throttleTokenBucket({ rate: 1, per: 1000, burst: 1, mode: 'drop' })` and into `throttleTime(1000)` (the same
 *    behaviour): the first value passes, the other 9,999 are dropped. Goal: ns/value <= 1.5x throttleTime.
 * 2. Decisions per second vs the `limiter` package's `TokenBucket.tryRemoveTokens(1)` (which reads `Date.now()` on
 *    every call), when the bucket is empty (almost every value refused) and when it is deep (every value admitted, so
 *    throttleTokenBucket reads the clock once per value).
 */
import { Subject, throttleTime } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { TokenBucket as LimiterBucket } from 'limiter';
import { pathToFileURL } from 'node:url';
import { throttleTokenBucket } from 'rxjs-backpressure';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const N = 10_000;
let sink = 0;
const consume = (v: number): void => {
  sink += v;
};

/** One call: subscribe, push N values synchronously, unsubscribe. */
function flood(operator: () => MonoTypeOperatorFunction<number>): () => void {
  return () => {
    const subject = new Subject<number>();
    const subscription = subject.pipe(operator()).subscribe(consume);
    for (let i = 0; i < N; i++) subject.next(i);
    subscription.unsubscribe();
  };
}

/** One call: N decisions on a limiter TokenBucket. */
function limiterDecisions(bucketSize: number, tokensPerInterval: number): () => void {
  return () => {
    const bucket = new LimiterBucket({ bucketSize, tokensPerInterval, interval: 1000 });
    for (let i = 0; i < N; i++) if (bucket.tryRemoveTokens(1)) sink++;
  };
}

export async function run(): Promise<BenchRow[]> {
  const deep = 1e9; // tokens: never runs dry within one call
  const rows = [
    ...(await compare(
      'throttleTokenBucket: drop mode vs throttleTime, Subject flood of 10^4 values (1 passes)',
      { name: 'throttleTime(1000)', fn: flood(() => throttleTime<number>(1000)), values: N },
      [
        {
          name: "throttleTokenBucket({ rate: 1, per: 1000, mode: 'drop' })",
          fn: flood(() => throttleTokenBucket<number>({ rate: 1, per: 1000, mode: 'drop' })),
          values: N,
        },
      ],
      { goal: '<= 1.5x' },
    )),
    ...(await compare(
      'throttleTokenBucket: decisions vs limiter TokenBucket, empty bucket (all but 1 refused)',
      { name: 'limiter tryRemoveTokens(1)', fn: limiterDecisions(1, 1), values: N },
      [
        {
          name: 'throttleTokenBucket drop, via Subject',
          fn: flood(() => throttleTokenBucket<number>({ rate: 1, per: 1000, mode: 'drop' })),
          values: N,
        },
      ],
    )),
    ...(await compare(
      'throttleTokenBucket: decisions vs limiter TokenBucket, deep bucket (all admitted, one clock read each)',
      { name: 'limiter tryRemoveTokens(1)', fn: limiterDecisions(deep, deep), values: N },
      [
        {
          name: 'throttleTokenBucket drop, via Subject',
          fn: flood(() => throttleTokenBucket<number>({ rate: deep, per: 1000, burst: deep, mode: 'drop' })),
          values: N,
        },
      ],
    )),
  ];
  const decisions = rows
    .filter((r) => r.group.includes('decisions'))
    .map((r) => ({ group: r.group, name: r.name, perSecond: Math.round(1e9 / r.ns) }));
  print(rows);
  console.table(decisions);
  save(rows, { throttleTokenBucketDecisionsPerSecond: decisions });
  if (sink === -1) console.log(sink);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
