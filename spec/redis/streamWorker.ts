/**
 * One worker process of the fleet spec: reads the stream through `fromRedisStream` into a drain, records each entry
 * it worked on in Redis (HINCRBY on a hash: the count per entry is how often it was worked on), then acknowledges it.
 * On 'stop' it unsubscribes and reports its figures.
 */
import { Redis } from 'ioredis';
import { drain } from '../../src/demand/drain.js';
import { fromRedisStream } from '../../src/redis/index.js';

export interface StreamWorkerConfig {
  port: number;
  stream: string;
  group: string;
  consumer: string;
  concurrency: number;
  claimIdle: number;
  /** The hash where each entry worked on is counted. */
  done: string;
}

export type StreamWorkerMessage =
  { kind: 'ready' } | { kind: 'done'; worked: number; redelivered: number; maxDeliveries: number; errors: string[] };

const config = JSON.parse(process.argv[2]!) as StreamWorkerConfig;
const send = (message: StreamWorkerMessage): void => void process.send!(message);
const redis = new Redis({ host: '127.0.0.1', port: config.port });
await redis.ping();

let worked = 0;
/** Told 'hang' by the spec before it SIGKILLs this worker: its work stops ending, so it dies holding entries. */
let hanging = false;
let redelivered = 0;
let maxDeliveries = 0;
const errors: string[] = [];
const subscription = fromRedisStream(redis, {
  stream: config.stream,
  group: config.group,
  consumer: config.consumer,
  claimIdle: config.claimIdle,
  block: 100,
})
  .pipe(
    drain(
      async (entry) => {
        // the work: a little asynchronous time, then a record of it in Redis
        await new Promise((resolve) => setTimeout(resolve, Math.random() < 0.2 ? 1 : 0));
        if (hanging) await new Promise(() => undefined);
        await redis.hincrby(config.done, entry.fields['n']!, 1);
        worked++;
        if (entry.deliveries > 1) redelivered++;
        maxDeliveries = Math.max(maxDeliveries, entry.deliveries);
        await entry.ack();
      },
      { concurrency: config.concurrency },
    ),
  )
  .subscribe({ error: (e: unknown) => errors.push(String(e)) });
send({ kind: 'ready' });

process.on('message', (message) => {
  if (message === 'hang') {
    hanging = true;
    return;
  }
  subscription.unsubscribe();
  send({ kind: 'done', worked, redelivered, maxDeliveries, errors });
  redis.disconnect();
  process.disconnect();
});
