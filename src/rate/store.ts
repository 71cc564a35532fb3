import { asyncScheduler } from 'rxjs';
import { Clock } from '../internal/clock.js';
import { fail } from '../internal/options.js';
import { TokenBucket } from './bucket.js';
import { STORE_RUNNER } from './run.js';
import type { StoreRunner } from './run.js';
import type { TokenBucketStore, TokenGrant, TokenRequest } from './protocol.js';
import { StoreRun } from './storeRun.js';

/**
 * Makes a store of your own usable as throttleTokenBucket's `store`: any object whose `take` answers a
 * {@link TokenGrant} (at once or with a promise). The stores of this library (`memoryTokenBucketStore`,
 * `redisTokenBucketStore`) need no wrapping.
 *
 * ```
 * store = tokenBucketStore({ take: (r) => db.take(r) })   (answers a promise)
 * source:  -(abc)-----|
 * throttleTokenBucket({ rate: 1, per: 4, burst: 2, mode: 'drop', store })
 * output:  -(ab)------|      a and b asked one at a time, granted; c refused ('rate')
 * ```
 *
 * ## Example
 * ```ts
 * import { throttleTokenBucket, tokenBucketStore, type TokenRequest } from 'rxjs-backpressure';
 *
 * // A bucket kept by your own service, asked over HTTP.
 * const store = tokenBucketStore({
 *   take: (request: TokenRequest) =>
 *     fetch('/quota/take', { method: 'POST', body: JSON.stringify(request) }).then((r) => r.json()),
 * });
 * calls$.pipe(throttleTokenBucket({ rate: 10, burst: 10, store })).subscribe(send);
 * ```
 *
 * @param store an object with `take(request)`; returned as it is, made runnable
 * @see memoryTokenBucketStore
 */
export function tokenBucketStore<S extends TokenBucketStore>(store: S): S {
  if (typeof store !== 'object' || store === null || typeof store.take !== 'function') {
    fail('tokenBucketStore', 'store', 'an object with take()', store, 'type');
  }
  const run: StoreRunner = (settings, destination) => new StoreRun(settings, destination, store);
  Object.defineProperty(store, STORE_RUNNER, { value: run, configurable: true });
  return store;
}

const GRANTED: TokenGrant = { granted: true };

/**
 * A token bucket in this process's memory, shared by every `throttleTokenBucket` given it as `store` (one bucket per
 * `key`): answers synchronously, on the clock of the asking operator's scheduler (`request.now`, made monotonic: a
 * clock that steps back neither adds nor removes tokens), with the exact arithmetic of the built-in bucket. A bucket
 * that is full again is forgotten (a new one starts full), so idle keys cost no memory.
 *
 * ```
 * store = memoryTokenBucketStore()
 * a:       -x-y----|            a.pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'drop', store }))
 * b:       --u--v--|            b.pipe(... the same store ...)
 * outputs: -x---v--|            one bucket: x is paid for, y and u are dropped, v is paid for 4 frames after x
 * ```
 *
 * ## Example
 * ```ts
 * import { merge } from 'rxjs';
 * import { memoryTokenBucketStore, throttleTokenBucket } from 'rxjs-backpressure';
 *
 * // Uploads and downloads share one budget of 10 requests a second.
 * const store = memoryTokenBucketStore();
 * const limit = <T>() => throttleTokenBucket<T>({ rate: 10, burst: 10, store });
 * merge(uploads$.pipe(limit()), downloads$.pipe(limit())).subscribe(send);
 * ```
 *
 * @see throttleTokenBucket
 */
export function memoryTokenBucketStore(): TokenBucketStore {
  const buckets = new Map<string | undefined, TokenBucket>();
  const clock = new Clock(asyncScheduler);
  let swept = 1024;
  return tokenBucketStore({
    take(request: TokenRequest): TokenGrant {
      const { rate, per, burst, key } = request;
      const now = clock.read(request.now);
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= swept) {
          // Forget the buckets that are full again; sweep again when the kept ones have doubled (O(1) per request).
          buckets.forEach((b, k) => b.level(now) >= b.size && buckets.delete(k));
          swept = Math.max(1024, 2 * buckets.size);
        }
        bucket = new TokenBucket(rate, per, burst);
        buckets.set(key, bucket);
      } else if (bucket.rate !== rate || bucket.per !== per || bucket.size !== burst * per) {
        // Asked with other settings: the same bucket, resized; it keeps its tokens (up to the new burst).
        const tokens = bucket.level(now) / bucket.per;
        bucket = new TokenBucket(rate, per, burst);
        bucket.refill(Math.min(tokens, burst) * per, now);
        buckets.set(key, bucket);
      }
      const units = request.tokens * per;
      const need = bucket.need(units);
      const level = bucket.level(now);
      if (bucket.affords(need, level)) {
        bucket.take(units);
        return GRANTED;
      }
      return { granted: false, retryAfter: bucket.waitFor(need, level) };
    },
  });
}
