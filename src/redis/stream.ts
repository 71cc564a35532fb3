/**
 * `fromRedisStream`: a Redis Streams consumer group read against demand.
 *
 * ioredis is an optional peer dependency: this module imports only its types and works on the client it is given.
 */
import { Observable } from 'rxjs';
import type { Redis } from 'ioredis';
import { demandInput, fail } from '../internal/options.js';
import type { DemandInput } from '../types.js';
import { NAME, streamSettings } from './streamOptions.js';
import type { Client, FromRedisStreamOptions, StreamEntry } from './streamOptions.js';
import { StreamReader } from './streamReader.js';

export type { DeadLetter, FromRedisStreamOptions, StreamEntry } from './streamOptions.js';

/**
 * A Redis Streams consumer group as a source that obeys demand: it reads (`XREADGROUP ... COUNT n`) no more entries
 * than its consumer has credit for, so entries read or claimed and not yet acknowledged never exceed the credit
 * given, and a fleet of workers shares one stream with each holding only what its drain can run.
 *
 * Linked like {@link pull}: without `demand`, it takes its credit from the drain below it in the pipe chain; with a
 * `demand`, from that; with neither, it reads in batches of `count` as fast as its subscriber takes entries. While
 * idle it waits on the server (`BLOCK`), on a connection of its own (`redis.duplicate()`, with the caller's reconnect
 * policy), so the caller's client stays free; acknowledgements (`entry.ack()`, XACK) go through the caller's client.
 *
 * - **At-least-once.** At subscription it first replays this consumer's own pending entries (a process restarted
 *   under the same consumer name finishes what it had), then reads new ones. It claims entries that any consumer has
 *   left pending longer than `claimIdle` ms (XAUTOCLAIM), at subscription and every `claimIdle / 2` ms while it has
 *   credit, so the work of a dead process is done by the living ones. Entries it read and did not emit (the
 *   subscriber left in the middle of a batch) stay pending and are claimed in the same way.
 * - **The group** is created when missing (`XGROUP CREATE <stream> <group> <groupStart> MKSTREAM`, `groupStart` =
 *   `'0'`: every entry already in the stream), unless `createGroup: false`.
 * - **Reconnects.** The connection that reads never resends a command itself (`autoResendUnfulfilledCommands:
 *   false`): a read in flight when the connection drops may have been served, its entries added to this consumer's
 *   pending list with the reply lost. After a reconnect it replays its own pending list, skipping the entries it has
 *   emitted and not yet seen acknowledged, so nothing is skipped and nothing is emitted twice. The client's
 *   `retryStrategy` and `maxRetriesPerRequest` decide when to give up: then the stream errors.
 * - **Dead letters.** An entry delivered more than `maxDeliveries` times goes to `onDeadLetter` and is acknowledged
 *   after it, instead of being emitted again (a poison entry that kills every worker that takes it).
 * - **Errors.** A Redis error (the group deleted, the key of another type, the connection given up) errors the
 *   stream. Entries deleted from the stream while pending (XDEL, XTRIM) are acknowledged and skipped.
 *
 * ```
 * stream:      a b c d e f ...        (10^4 entries; three workers, one killed after c)
 * worker 1:    -a---c-#               (SIGKILL: c stays pending)
 * worker 2:    --b---d---c'--f        (c' = c claimed after claimIdle, deliveries 2)
 * each:        fromRedisStream(redis, { stream, group, consumer }).pipe(drain(work, { concurrency: 4 }))
 *              pending per worker <= 4 at every moment; the group's pending list is empty at the end
 * ```
 *
 * ## Example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { drain } from 'rxjs-backpressure';
 * import { fromRedisStream } from 'rxjs-backpressure/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * fromRedisStream(redis, { stream: 'jobs', group: 'workers', consumer: `worker-${process.pid}`, claimIdle: 60_000 })
 *   .pipe(
 *     drain(async (entry) => {
 *       await handle(entry.fields); // at most 8 entries in this process at once, pending included
 *       await entry.ack();
 *     }, { concurrency: 8 }),
 *   )
 *   .subscribe({ error: (e) => console.error('worker stopped', e) });
 * ```
 *
 * @param redis an ioredis `Redis` client, duplicated for the blocking reads (a stream lives on one node: with Redis
 *   Cluster, pass a client of the node that holds the stream's key)
 * @param options `stream`, `group`, `consumer` (required), `claimIdle`, `block`, `count`, `createGroup`,
 *   `groupStart`, `maxDeliveries`, `onDeadLetter`, `scheduler`
 * @param demand the consumer's credits (a Demand or any ObservableInput of credits); default: the drain it is linked to
 * @see pull the in-process source linked the same way
 */
export function fromRedisStream(
  redis: Redis,
  options: FromRedisStreamOptions,
  demand?: DemandInput,
): Observable<StreamEntry> {
  const client = redis as unknown as Client;
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.call !== 'function' ||
    typeof client.duplicate !== 'function'
  ) {
    fail(NAME, 'redis', 'an ioredis client (with call() and duplicate())', redis, 'type');
  }
  const spec = streamSettings(options);
  if (demand !== undefined) demandInput(NAME, 'demand', demand);
  return new Observable<StreamEntry>((subscriber) => {
    const reader = new StreamReader(client, spec, subscriber, demand);
    reader.start(demand);
    return () => reader.cancel();
  });
}
