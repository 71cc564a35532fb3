/**
 * One worker of the redis-workers example: takes jobs from the stream through `fromRedisStream`, at most
 * CONCURRENCY at once (pending included), and acknowledges each one when its work is done. A job that another worker
 * left behind (it died) comes back here after CLAIM_IDLE ms, with `deliveries` > 1.
 */
import { Redis } from 'ioredis';
import { drain } from 'rxjs-backpressure';
import { fromRedisStream } from 'rxjs-backpressure/redis';

const [url, consumer] = process.argv.slice(2) as [string, string];
const CONCURRENCY = 4;
const CLAIM_IDLE = 1000;

const redis = new Redis(url);
let redelivered = 0;

fromRedisStream(redis, { stream: 'jobs', group: 'workers', consumer, claimIdle: CLAIM_IDLE, block: 500 })
  .pipe(
    drain(
      async (job) => {
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10)); // the work
        if (job.deliveries > 1) process.send?.({ redelivered: ++redelivered });
        await job.ack();
      },
      { concurrency: CONCURRENCY },
    ),
  )
  .subscribe({ error: (e: unknown) => console.error(`${consumer}:`, e) });
