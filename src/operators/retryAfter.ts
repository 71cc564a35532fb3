import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscription } from 'rxjs';
import { RateLimitExceededError } from '../errors.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import {
  callback,
  checkOptions,
  fail,
  nonNegativeNumber,
  positiveInteger,
  probability,
  scheduler as schedulerOption,
} from '../internal/options.js';

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
}

const OPTION_KEYS = [
  'maxAttempts',
  'maxDelay',
  'defaultDelay',
  'jitter',
  'random',
  'statuses',
  'status',
  'header',
  'onRetry',
  'scheduler',
] as const;

const operator = 'retryAfter';

/**
 * Retries a request that the server answered `429 Too Many Requests` or `503 Service Unavailable`, after the time its
 * `Retry-After` header asks for.
 *
 * Each subscription to the source is one attempt (a request observable: `defer(() => fetch(url))`, `ajax(...)`, a
 * Node `http.get` wrapped in an Observable). A response value, or an error (an `AjaxError`), whose status is in
 * `statuses` ends the attempt instead of going downstream: the attempt is unsubscribed and, after a wait, the source
 * is subscribed again. Other values and errors pass through untouched (a network error is not this operator's to
 * retry: put `retry` around it).
 *
 * The wait is `Retry-After` (delta-seconds, or an HTTP-date measured against `scheduler.now()`; a date in the past is
 * 0), or `defaultDelay` when the header is missing or unreadable; capped at `maxDelay`; then `jitter × random() ×`
 * that is added. After `maxAttempts` attempts it gives up: the stream errors with a `RateLimitExceededError` whose
 * `retryAfter` is the ms the server last asked for and whose `cause` is the last response or error.
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
 * import { defer } from 'rxjs';
 * import { circuitBreak, retryAfter } from 'rxjs-backpressure';
 *
 * // Honour the server's Retry-After up to 3 times (at most 10 s each), then count one failure on the breaker.
 * const price$ = defer(() => fetch('https://api.example.com/price')).pipe(
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
  checkOptions(operator, options, OPTION_KEYS);
  const maxAttempts =
    options.maxAttempts === undefined ? 3 : positiveInteger(operator, 'maxAttempts', options.maxAttempts);
  const maxDelay = options.maxDelay === undefined ? 60_000 : nonNegativeNumber(operator, 'maxDelay', options.maxDelay);
  const defaultDelay =
    options.defaultDelay === undefined ? 1000 : nonNegativeNumber(operator, 'defaultDelay', options.defaultDelay);
  const jitter = options.jitter === undefined ? 0.1 : probability(operator, 'jitter', options.jitter);
  const random =
    options.random === undefined ? Math.random : callback<() => number>(operator, 'random', options.random);
  const statuses = options.statuses === undefined ? [429, 503] : statusList(options.statuses);
  const statusOf =
    options.status === undefined ? defaultStatus : callback<typeof defaultStatus>(operator, 'status', options.status);
  const headerOf =
    options.header === undefined ? defaultHeader : callback<typeof defaultHeader>(operator, 'header', options.header);
  const onRetry =
    options.onRetry === undefined
      ? undefined
      : callback<(retry: RetryAfterAttempt) => void>(operator, 'onRetry', options.onRetry);
  const scheduler =
    options.scheduler === undefined ? asyncScheduler : schedulerOption(operator, 'scheduler', options.scheduler);

  /** The ms the server asks for in `response`, or `defaultDelay`. */
  const requestedDelay = (response: unknown): number => {
    const value = headerOf(response, 'Retry-After');
    const ms = typeof value === 'string' ? parseRetryAfter(value, scheduler.now()) : undefined;
    return ms ?? defaultDelay;
  };

  return (source) =>
    new Observable<T>((destination) => {
      let attempt = 0;
      let call: SourceSubscriber<T> | undefined;
      let timer: Subscription | undefined;

      /** `response` (a value or an error) came back 429 / 503: wait and try again, or give up. */
      const retry = (response: unknown, status: number): void => {
        call?.unsubscribe();
        call = undefined;
        const requested = requestedDelay(response);
        if (attempt >= maxAttempts) {
          const error = new RateLimitExceededError(
            `${operator}: gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: the server answered ${status}` +
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
        timer = scheduler.schedule(start, delay);
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
        source.subscribe(call);
      }

      start();
    });
}

function statusList(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    fail(operator, 'statuses', 'a non-empty array of HTTP statuses', value, 'type');
  }
  return value.map((status: unknown) => {
    if (typeof status !== 'number') fail(operator, 'statuses', 'a non-empty array of HTTP statuses', status, 'type');
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      fail(operator, 'statuses', 'HTTP statuses (integers 100 to 599)', status, 'range');
    }
    return status;
  });
}

/**
 * The ms a `Retry-After` value asks for at `now`: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`, 0 when past); undefined when it is neither.
 *
 * @internal
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
