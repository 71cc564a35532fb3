/**
 * One client process of the Redis integration spec: after 'go', offers a value every millisecond for `window` ms to
 * `throttleTokenBucket` (mode 'drop') and reports the wall-clock time of every value it let through.
 */
import { Redis } from 'ioredis';
import { asyncScheduler, interval, takeUntil, timer } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { throttleTokenBucket } from '../../src/operators/throttleTokenBucket.js';
import { tokenBucketStore } from '../../src/rate/store.js';
import { redisTokenBucketStore } from '../../src/redis/index.js';
import type { TokenBucketStore } from '../../src/redis/index.js';

export interface WorkerConfig {
  port: number;
  key: string;
  rate: number;
  per: number;
  burst: number;
  /** ms to offer values for. */
  window: number;
  /** ms added to this client's scheduler.now(). */
  skew: number;
  /** false: a bucket of its own (the control). */
  shared: boolean;
}

export type WorkerMessage =
  | { kind: 'ready' }
  | {
      kind: 'done';
      /** Wall-clock time of each emission. */
      times: number[];
      /** Per granted token: [request sent, reply received], wall clock; Redis granted it in between. */
      grants: [number, number][];
      offered: number;
      dropped: number;
      skewedNow: number;
    };

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const send = (message: WorkerMessage): void => void process.send!(message);
const redis = new Redis({ host: '127.0.0.1', port: config.port });
await redis.ping();
send({ kind: 'ready' });

process.once('message', () => {
  const skewed: SchedulerLike = {
    now: () => asyncScheduler.now() + config.skew,
    schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike['schedule'],
  };
  const shared = config.shared
    ? redisTokenBucketStore(redis, { key: config.key, onStoreError: 'fail-closed', timeout: 2000 })
    : undefined;
  const grants: [number, number][] = [];
  const store: TokenBucketStore | undefined =
    shared &&
    tokenBucketStore({
      take: async (request) => {
        const sent = Date.now();
        const grant = await shared.take(request);
        if (grant.granted) grants.push([sent, Date.now()]);
        return grant;
      },
    });
  const times: number[] = [];
  let offered = 0;
  let dropped = 0;
  interval(1)
    .pipe(
      takeUntil(timer(config.window)),
      throttleTokenBucket({
        rate: config.rate,
        per: config.per,
        burst: config.burst,
        mode: 'drop',
        capacity: 1,
        scheduler: skewed,
        onDrop: () => dropped++,
        ...(store === undefined ? {} : { store }),
      }),
    )
    .subscribe({
      next: () => {
        const now = Date.now();
        times.push(now);
        if (!config.shared) grants.push([now, now]);
      },
      complete: () => {
        offered = times.length + dropped;
        send({ kind: 'done', times, grants, offered, dropped, skewedNow: skewed.now() - Date.now() });
        redis.disconnect();
        process.disconnect();
      },
    });
});
