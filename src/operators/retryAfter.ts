import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscription } from 'rxjs';
import { onOffer, offer } from '../demand/link.js';
import { RateLimitExceededError } from '../errors.js';
import { scheduleAfter } from '../internal/clock.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import {
  fail,
  fn,
  nonNegativeNumber,
  optional,
  positiveInteger,
  probability,
  scheduler,
  settings,
  shaped,
  withDefault,
} from '../internal/options.js';
import type { RetryBudget } from '../limit/retryBudget.js';
import type { Check, Schema } from '../internal/options.js';

/** What {@link retryAfter} tells `onRetry` before it waits. */
export interface RetryAfterAttempt {
  /** The attempt that was answered 429 / 503, from 1. */
  readonly attempt: number;
  /** Its HTTP status. */
  readonly status: number;
  /** ms the server asked for (`Retry-After`), or `defaultDelay` when it did not say; before the cap and jitter. */
  readonly requested: number;
  /** ms until the next attempt: `min(requested, maxDelay)` plus jitter. */
  readonly delay: number;
  /** The response value, or the error (e.g. an `AjaxError`) that carried the status. */
  readonly response: unknown;
}

/** Options of {@link retryAfter}. */
export interface RetryAfterOptions {
  /** Most attempts in all, the first included: a positive integer. Default 3. */
  maxAttempts?: number | undefined;
  /** Most ms to wait, however long `Retry-After` asks for (jitter comes on top). Default 60000. */
  maxDelay?: number | undefined;
  /** ms to wait when the answer has no usable `Retry-After`. Default 1000. */
  defaultDelay?: number | undefined;
  /**
   * Up to this fraction of the delay is added at random, so clients told the same time do not return together.
   * Default 0.1.
   */
  jitter?: number | undefined;
  /** Numbers in [0, 1) for the jitter. Default `Math.random`; inject for deterministic tests. */
  random?: (() => number) | undefined;
  /** The statuses that mean "come back later". Default `[429, 503]`. */
  statuses?: readonly number[] | undefined;
  /**
   * Reads the HTTP status of a response value or of an error; `undefined` for anything else. Default: `status` (fetch
   * `Response`, rxjs `AjaxResponse` and `AjaxError`), else `statusCode` (Node `IncomingMessage`).
   */
  status?: ((response: unknown) => number | undefined) | undefined;
  /**
   * Reads one header of a response value or error. Default: `headers.get(name)` (fetch), `responseHeaders[name]`
   * (`AjaxResponse`), `xhr.getResponseHeader(name)` (`AjaxError`), else `headers[name]` (Node, lower-case names).
   */
  header?: ((response: unknown, name: string) => string | null | undefined) | undefined;
  /** Told before each wait (e.g. to discard the unread body of a fetch `Response`). */
  onRetry?: ((retry: RetryAfterAttempt) => void) | undefined;
  /** The clock an HTTP-date is measured against, and where the waits run. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
  /**
   * A {@link retryBudget} shared with other streams: each subscription deposits one call, each retry must be withdrawn
   * from it, and with the budget spent `retryAfter` gives up at once, as after `maxAttempts` (a
   * `RateLimitExceededError` whose `cause` is the last answer). Default: no budget, only `maxAttempts`.
   */
  budget?: RetryBudget | undefined;
}

const operator = 'retryAfter';

/**
 * Retries a request that the server answered `429 Too Many Requests` or `503 Service Unavailable`, after the time its
 * `Retry-After` header asks for.
 *
 * Each subscription to the source is one attempt (a request observable: `fromFetch(url)`, `ajax(...)`, a
 * Node `http.get` wrapped in an Observable). A response value, or an error (an `AjaxError`), whose status is in
 * `statuses` ends the attempt instead of going downstream: the attempt is unsubscribed and, after a wait, the source
 * is subscribed again. Other values and errors pass through untouched (a network error is not this operator's to
 * retry: put `retry` around it).
 *
 * The wait is `Retry-After` (delta-seconds, or an HTTP-date measured against `scheduler.now()`; a date in the past is
 * 0), or `defaultDelay` when the header is missing or unreadable; capped at `maxDelay`; then `jitter × random() ×`
 * that is added. After `maxAttempts` attempts, or at once when its `budget` (a shared {@link retryBudget}) allows no
 * more retries, it gives up: the stream errors with a `RateLimitExceededError` whose
 * `retryAfter` is the ms the server last asked for and whose `cause` is the last response or error.
 *
 * The waits are timers, so a wall clock that steps neither shortens nor lengthens them; waits above 2^31 - 1 ms (a
 * `Retry-After` of 30 days under a larger `maxDelay`) are waited in full, in steps. Only an HTTP-date is read against
 * the wall clock (`scheduler.now()` as it is, since the date is one). Each attempt is subscribed with the consumer's
 * credit link on offer, so a demand-aware producer upstream (a `pull()`) stays paced by the drain below on every
 * attempt, and a refusal that came as a value gives its credit back (the link returns the credit of a value that
 * does not reach the consumer).
 *
 * With {@link circuitBreak}: placed after `retryAfter`, the breaker sees one call per retried request, and a request
 * that gave up counts as one failure; placed before it (inside), every attempt is a call, a 503 carried by an error
 * counts as a failure, and once the circuit opens its `CircuitOpenError` passes straight through (fail fast, no wait).
 *
 * ```
 * attempt 1: s|                    s: 503, Retry-After: 2 (seconds)
 * attempt 2:         ·· 2 s ··r|   r: 200
 * retryAfter({ jitter: 0 })
 * output:    ---------- 2 s ··r|
 * ```
 *
 * ## Example
 * ```ts
 * import { fromFetch } from 'rxjs/fetch';
 * import { circuitBreak, retryAfter } from 'rxjs-backpressure';
 *
 * // Honour the server's Retry-After up to 3 times (at most 10 s each), then count one failure on the breaker.
 * const price$ = fromFetch('https://api.example.com/price').pipe(
 *   retryAfter({ maxAttempts: 3, maxDelay: 10_000, onRetry: ({ response }) => (response as Response).body?.cancel() }),
 *   circuitBreak(priceApiBreaker),
 * );
 * ```
 *
 * @param options `maxAttempts`, `maxDelay`, `defaultDelay`, `jitter`, `random`, `statuses`, `status`, `header`,
 *   `onRetry`, `scheduler` (all optional)
 * @see {@link circuitBreak} stop calling a downstream that keeps failing
 * @see {@link throttleTokenBucket} stay under a rate limit in the first place
 * @see {@link https://www.rfc-editor.org/rfc/rfc9110#field.retry-after | RFC 9110 Retry-After}
 */
export function retryAfter<T>(options: RetryAfterOptions = {}): MonoTypeOperatorFunction<T> {
  const { maxAttempts, maxDelay, defaultDelay, jitter, random, statuses, status, header, onRetry, scheduler, budget } =
    settings(operator, RETRY_AFTER, options);
  const statusOf = status;
  const headerOf = header;

  /** The ms the server asks for in `response`, or `defaultDelay`. */
  const requestedDelay = (response: unknown): number => {
    const value = headerOf(response, 'Retry-After');
    const ms = typeof value === 'string' ? parseRetryAfter(value, scheduler.now()) : undefined;
    return ms ?? defaultDelay;
  };

  return (source) =>
    new Observable<T>((destination) => {
      // A consumer's credit link on offer now: a later attempt subscribes with it on offer again, so a demand-aware
      // producer upstream (a pull()) is linked to the consumer below on every attempt.
      const link = onOffer();
      let attempt = 0;
      let call: SourceSubscriber<T> | undefined;
      let timer: Subscription | undefined;

      /** `response` (a value or an error) came back 429 / 503: wait and try again, or give up. */
      const retry = (response: unknown, status: number): void => {
        call?.unsubscribe();
        call = undefined;
        const requested = requestedDelay(response);
        const spent = attempt < maxAttempts && budget !== undefined && !budget.tryWithdraw();
        if (attempt >= maxAttempts || spent) {
          const error = new RateLimitExceededError(
            `${operator}: gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}` +
              `${spent ? ' (the retry budget is spent)' : ''}: the server answered ${status}` +
              ` (retry after ${requested} ms)`,
            requested,
          );
          error.cause = response;
          destination.error(error);
          return;
        }
        const r = random();
        if (typeof r !== 'number' || !(r >= 0 && r < 1)) {
          throw new RangeError(`${operator}: random must return a number in [0, 1), got ${String(r)}`);
        }
        const capped = requested < maxDelay ? requested : maxDelay;
        const delay = capped + capped * jitter * r;
        onRetry?.({ attempt, status, requested, delay, response });
        timer = scheduleAfter(scheduler, delay, start);
        destination.add(timer);
      };

      /** The status when `response` means "come back later", else undefined. */
      const refusal = (response: unknown): number | undefined => {
        const status = statusOf(response);
        return typeof status === 'number' && statuses.includes(status) ? status : undefined;
      };

      function start(): void {
        if (timer !== undefined) destination.remove(timer);
        timer = undefined;
        attempt++;
        call = new SourceSubscriber<T>(destination, {
          next: (value) => {
            const status = refusal(value);
            if (status === undefined) destination.next(value);
            else retry(value, status);
          },
          error: (error) => {
            let status: number | undefined;
            try {
              status = refusal(error);
            } catch (thrown) {
              destination.error(thrown);
              return;
            }
            if (status === undefined) {
              destination.error(error);
              return;
            }
            try {
              retry(error, status);
            } catch (thrown) {
              destination.error(thrown);
            }
          },
        });
        const subscriber = call;
        if (attempt === 1) source.subscribe(subscriber);
        else offer(link, () => source.subscribe(subscriber));
      }

      budget?.deposit(); // this subscription is one call; its retries are withdrawn one by one
      start();
    });
}

/** A non-empty array of HTTP statuses. */
const statusList: Check<readonly number[]> = (operator, option, value) => {
  if (!Array.isArray(value) || value.length === 0) {
    fail(operator, option, 'a non-empty array of HTTP statuses', value, 'type');
  }
  return value.map((status: unknown) => {
    if (typeof status !== 'number') fail(operator, option, 'a non-empty array of HTTP statuses', status, 'type');
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      fail(operator, option, 'HTTP statuses (integers 100 to 599)', status, 'range');
    }
    return status;
  });
};

const RETRY_AFTER = {
  maxAttempts: withDefault(positiveInteger, 3),
  maxDelay: withDefault(nonNegativeNumber, 60_000),
  defaultDelay: withDefault(nonNegativeNumber, 1000),
  jitter: withDefault(probability, 0.1),
  random: withDefault(fn<() => number>(), Math.random),
  statuses: withDefault(statusList, [429, 503]),
  status: withDefault(fn<(response: unknown) => number | undefined>(), defaultStatus),
  header: withDefault(fn<(response: unknown, name: string) => string | null | undefined>(), defaultHeader),
  onRetry: optional(fn<(retry: RetryAfterAttempt) => void>()),
  scheduler: withDefault(scheduler, asyncScheduler),
  budget: optional(shaped<RetryBudget>('a RetryBudget (from retryBudget())', ['deposit', 'tryWithdraw'])),
} satisfies Schema<RetryAfterOptions>;

/**
 * The ms a `Retry-After` value asks for at `now`: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`, 0 when past); undefined when it is neither. Exported for its spec only.
 */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // a bare number like "1.5" or "-1" is not a date either
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return at > now ? at - now : 0;
}

function defaultStatus(response: unknown): number | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const r = response as { status?: unknown; statusCode?: unknown };
  if (typeof r.status === 'number') return r.status;
  if (typeof r.statusCode === 'number') return r.statusCode;
  return undefined;
}

function defaultHeader(response: unknown, name: string): string | null | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const r = response as {
    headers?: unknown;
    responseHeaders?: Record<string, string | undefined>;
    xhr?: { getResponseHeader?: (name: string) => string | null };
  };
  const headers = r.headers as { get?: (name: string) => string | null } | Record<string, unknown> | undefined;
  if (typeof headers === 'object' && headers !== null && typeof headers.get === 'function') {
    return (headers.get as (name: string) => string | null)(name); // fetch Headers
  }
  const lower = name.toLowerCase();
  // AjaxResponse
  if (typeof r.responseHeaders === 'object' && r.responseHeaders !== null) return r.responseHeaders[lower];
  if (typeof r.xhr?.getResponseHeader === 'function') return r.xhr.getResponseHeader(name); // AjaxError
  if (typeof headers === 'object' && headers !== null) {
    const value = (headers as Record<string, unknown>)[lower]; // Node IncomingMessage
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}
