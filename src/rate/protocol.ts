/**
 * The store protocol: what throttleTokenBucket asks a store that keeps its tokens (`store` option), and what the
 * store answers. Implemented by memoryTokenBucketStore (rate/store.ts), redisTokenBucketStore
 * (`rxjs-backpressure/redis`) and any object passed through tokenBucketStore.
 */

/** One request to a {@link TokenBucketStore}: take `tokens` from the bucket described by `rate`, `per` and `burst`. */
export interface TokenRequest {
  /** The cost of one value, a finite number >= 0. Above `burst` it is granted when the bucket is full, into debt. */
  readonly tokens: number;
  /** Tokens added per `per` ms. */
  readonly rate: number;
  /** The period of `rate`, in ms. */
  readonly per: number;
  /** Bucket size in tokens; a bucket nobody has used yet is full. */
  readonly burst: number;
  /**
   * The asking operator's clock (`scheduler.now()`, made monotonic: it never goes back). A store shared between
   * processes uses its own clock instead.
   */
  readonly now: number;
  /** The bucket's key, from throttleTokenBucket's `key` option: one bucket per key. Undefined without it. */
  readonly key?: string | undefined;
}

/**
 * A store's answer: the tokens were taken, or they were not and the bucket can pay `retryAfter` ms from now at the
 * soonest.
 */
export type TokenGrant = { readonly granted: true } | { readonly granted: false; readonly retryAfter: number };

/**
 * Where the tokens of a `throttleTokenBucket` live when they are shared: one bucket per key, used by every
 * subscription (in any process) that asks it. `take` answers at once (a local bucket) or with a promise (a remote one,
 * e.g. `redisTokenBucketStore` from `rxjs-backpressure/redis`); it must take the tokens and decide atomically. A store
 * that cannot reach its bucket should answer by its own policy rather than reject; a rejection errors the stream.
 * A store of your own is passed through {@link tokenBucketStore}.
 */
export interface TokenBucketStore {
  take(request: TokenRequest): TokenGrant | PromiseLike<TokenGrant>;
}
