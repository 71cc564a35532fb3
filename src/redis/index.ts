/**
 * `rxjs-backpressure/redis`: a token bucket shared through a Redis server, for `throttleTokenBucket`'s `store` option.
 *
 * ioredis is an optional peer dependency: this module imports only its types and works on the client it is given.
 *
 * @module
 */
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { Cluster, Redis } from 'ioredis';
import type { TokenBucketStore, TokenGrant, TokenRequest } from '../rate/protocol.js';
import { describe } from '../internal/format.js';
import { memoryTokenBucketStore, tokenBucketStore } from '../rate/store.js';
import {
  callback,
  checkOptions,
  fail,
  oneOf,
  positiveNumber,
  scheduler as schedulerOption,
} from '../internal/options.js';

/**
 * What a {@link redisTokenBucketStore} answers when Redis cannot: `'fail-open'` grants every request (no limit while
 * Redis is down), `'fail-closed'` refuses every request (nothing passes while Redis is down; mode `'shape'` asks again
 * after one token's time), `'local'` asks a bucket in this process's memory with the same rate and burst (each process
 * keeps its own limit, so N processes together may pass up to N times the rate). A function decides for itself.
 */
export type StoreErrorPolicy =
  | 'fail-open'
  | 'fail-closed'
  | 'local'
  | ((error: unknown, request: TokenRequest) => TokenGrant | PromiseLike<TokenGrant>);

const POLICIES = ['fail-open', 'fail-closed', 'local'] as const;

/** Options of {@link redisTokenBucketStore}. */
export interface RedisTokenBucketStoreOptions {
  /**
   * The Redis key of the bucket (a hash of `level` and `at`); every store with the same key shares one bucket. With
   * throttleTokenBucket's `key` option, the prefix of one bucket per key: `${key}:${request.key}`.
   */
  key: string;
  /** What to answer when Redis errors or does not answer within `timeout`. Default `'local'`. */
  onStoreError?: StoreErrorPolicy | undefined;
  /** ms to wait for Redis before applying `onStoreError`. Default 500. */
  timeout?: number | undefined;
  /** Where the `timeout` timer runs. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/** The part of an ioredis client this store uses. */
interface ScriptClient {
  script(subcommand: 'LOAD', script: string): Promise<unknown>;
  evalsha(sha: string, keys: number, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * One acquisition, atomic: refill from the Redis server's clock (`TIME`), take the tokens if the bucket holds
 * min(tokens, burst), write back, and expire the key when the bucket would be full again (a missing key is a full
 * bucket, so nothing is lost). Answers { 1, "0" } or { 0, "<ms until payable>" } (strings keep the fraction).
 * Rate is in tokens per ms. A server clock that steps back adds nothing and never moves `at` back.
 */
const TOKEN_BUCKET_SCRIPT = `
local tokens = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = burst
local at = now
if state[1] and state[2] then
  level = tonumber(state[1])
  at = tonumber(state[2])
  if now > at then
    level = level + (now - at) * rate
    at = now
  end
  if level > burst then level = burst end
end
local need = tokens
if need > burst then need = burst end
if level >= need then
  level = level - tokens
  redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level), 'at', string.format('%.17g', at))
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - level) / rate) + 1)
  return { 1, '0' }
end
return { 0, string.format('%.17g', (need - level) / rate) }
`;

const name = 'redisTokenBucketStore';
const GRANTED: TokenGrant = { granted: true };

/**
 * A token bucket on a Redis server, shared by every process whose `throttleTokenBucket` uses a store with the same
 * `key`: each acquisition is one atomic Lua script that refills by the Redis server's clock (`TIME`), so clients with
 * skewed clocks still share one limit, and the key expires once the bucket would be full again (idle buckets cost
 * no memory). The bucket's rate, period and burst come from the operator's options. With the operator's `key`
 * option, `key` is the prefix of one bucket per key: `${key}:${request.key}`.
 *
 * When Redis errors or does not answer within `timeout` ms, `onStoreError` decides (default `'local'`: fall back to a
 * bucket in this process's memory with the same rate and burst, and go back to Redis on the next value). Two things to
 * know about an outage: with ioredis' default offline queue, a request made while the client reconnects waits for
 * `timeout`, so the `'local'` fallback passes about one value per `timeout` (values ask one at a time per key); create
 * the client with `enableOfflineQueue: false` to fall back at once. And requests that timed out while Redis was paused
 * still run when it resumes, and spend the burst: the fallback answered the value, but the command already sent is not
 * taken back.
 *
 * ```
 * process A: -a-b-------c-|        each: throttleTokenBucket({ rate: 1, per: 8, burst: 2, mode: 'drop', store })
 * process B: --x--y-------|        store = redisTokenBucketStore(redis, { key: 'partner-api' })
 * A emits:   -a---------c-|        a, x: the burst of 2 shared by both; b, y: dropped ('rate'); c: one token later
 * B emits:   --x----------|
 * ```
 *
 * ## Example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { throttleTokenBucket } from 'rxjs-backpressure';
 * import { redisTokenBucketStore } from 'rxjs-backpressure/redis';
 *
 * // All instances of the service together stay within the partner's 100 calls a minute.
 * const store = redisTokenBucketStore(new Redis(process.env.REDIS_URL!), { key: 'quota:partner-api' });
 * calls$.pipe(throttleTokenBucket({ rate: 100, per: 60_000, burst: 10, store })).subscribe(call);
 * ```
 *
 * @param redis an ioredis client (`Redis` or `Cluster`)
 * @param options `key` (required), `onStoreError`, `timeout`, `scheduler`
 * @see throttleTokenBucket
 * @see memoryTokenBucketStore the same bucket within one process
 */
export function redisTokenBucketStore(redis: Redis | Cluster, options: RedisTokenBucketStoreOptions): TokenBucketStore {
  const client = redis as unknown as ScriptClient;
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.evalsha !== 'function' ||
    typeof client.script !== 'function'
  ) {
    fail(name, 'redis', 'an ioredis client (with evalsha() and script())', redis, 'type');
  }
  checkOptions(name, options, ['key', 'onStoreError', 'timeout', 'scheduler']);
  const { key } = options;
  if (typeof key !== 'string') fail(name, 'key', 'a non-empty string', key, 'type');
  if (key.length === 0) fail(name, 'key', 'a non-empty string', key, 'range');
  const policy = options.onStoreError ?? 'local';
  if (typeof policy === 'function') callback(name, 'onStoreError', policy);
  else oneOf(POLICIES)(name, 'onStoreError', policy);
  const timeout = options.timeout === undefined ? 500 : positiveNumber(name, 'timeout', options.timeout);
  const scheduler =
    options.scheduler === undefined ? asyncScheduler : schedulerOption(name, 'scheduler', options.scheduler);
  const local = policy === 'local' ? memoryTokenBucketStore() : undefined;

  let sha: Promise<string> | undefined;
  const load = (): Promise<string> => {
    sha ??= client.script('LOAD', TOKEN_BUCKET_SCRIPT).then(
      (loaded) => String(loaded),
      (error: unknown) => {
        sha = undefined;
        throw error;
      },
    );
    return sha;
  };
  const run = async (request: TokenRequest): Promise<TokenGrant> => {
    const args = [request.tokens, request.rate, request.per, request.burst];
    const bucket = request.key === undefined ? key : `${key}:${request.key}`;
    let reply: unknown;
    try {
      reply = await client.evalsha(await load(), 1, bucket, ...args);
    } catch (error) {
      if (!String((error as Error | undefined)?.message).startsWith('NOSCRIPT')) throw error;
      sha = undefined; // the server lost its script cache (restart, SCRIPT FLUSH)
      reply = await client.evalsha(await load(), 1, bucket, ...args);
    }
    return grantOf(reply);
  };
  const fallback = (error: unknown, request: TokenRequest): TokenGrant | PromiseLike<TokenGrant> => {
    if (typeof policy === 'function') return policy(error, request);
    if (policy === 'fail-open') return GRANTED;
    if (policy === 'local') return local!.take(request);
    const { tokens, burst, per, rate } = request;
    return { granted: false, retryAfter: (Math.max(Math.min(tokens, burst), Math.min(1, burst)) * per) / rate };
  };

  return tokenBucketStore({
    take(request: TokenRequest): Promise<TokenGrant> {
      return new Promise<TokenGrant>((resolve, reject) => {
        let settled = false;
        const settle = (answer: () => TokenGrant | PromiseLike<TokenGrant>): void => {
          if (settled) return;
          settled = true;
          timer.unsubscribe();
          try {
            resolve(answer());
          } catch (error) {
            reject(error);
          }
        };
        const timer = scheduler.schedule(() => {
          const error = new Error(`${name}: no answer from Redis within ${timeout} ms`);
          settle(() => fallback(error, request));
        }, timeout);
        run(request).then(
          (grant) => settle(() => grant),
          (error: unknown) => settle(() => fallback(error, request)),
        );
      });
    },
  });
}

function grantOf(reply: unknown): TokenGrant {
  if (Array.isArray(reply) && reply.length === 2) {
    const [granted, retryAfter] = reply as [unknown, unknown];
    if (granted === 1) return GRANTED;
    const ms = Number(retryAfter);
    if (granted === 0 && ms >= 0) return { granted: false, retryAfter: ms };
  }
  throw new TypeError(`${name}: unexpected reply from the token bucket script: ${describe(reply)}`);
}

export type { TokenBucketStore, TokenGrant, TokenRequest } from '../rate/protocol.js';
