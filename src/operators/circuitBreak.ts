import { Observable } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { CircuitBreaker } from '../breaker/CircuitBreaker.js';
import type { CircuitBreakerOptions } from '../breaker/CircuitBreaker.js';
import { Call } from '../breaker/call.js';
import { breakerSettings } from '../breaker/options.js';
import { breakerPort } from '../breaker/port.js';

/**
 * Guards an observable with a circuit breaker: each subscription is one call, refused at once while the circuit is
 * open.
 *
 * One subscription is one call. While the circuit is open, half-open with its trial calls taken, or isolated,
 * subscribing errors at once with `CircuitOpenError` (carrying `retryAfter` ms) and upstream is not subscribed. A call
 * succeeds when it completes, or when it is unsubscribed after emitting at least one value; it fails when it errors
 * with an error `isFailure` accepts, or runs past `callTimeout` (it is then unsubscribed from upstream and errors with
 * `CallTimeoutError`); unsubscribed before any value it counts as neither (a trial call then frees its slot). A value
 * `isFailureResult` accepts (an HTTP 500 `Response`) fails the call at that value: counted before the value is
 * forwarded, and final (the value and the rest of the call still go downstream, nothing later changes the verdict,
 * `callTimeout` no longer applies). The breaker learns a result before the error or completion is forwarded, so a
 * `retry` resubscribing at once already sees the new state.
 *
 * In front of `fetch`, use `fromFetch` from `rxjs/fetch`: it aborts the request when unsubscribed, so a call that
 * times out is closed on the server too (a `defer(() => fetch(url))` keeps running).
 *
 * `retryAfter` is the time left until half-open while open, `Infinity` while isolated, and `callTimeout` (or, without
 * one, `resetTimeout`) when half-open with every trial slot taken. A call times out only when it runs longer than
 * `callTimeout`; one that ends or is unsubscribed exactly then is not timed out. Each running call has its own timer,
 * which decides (a wall clock that steps times out nothing early or late); a call that ends while subscribing (a
 * synchronous source) needs none.
 *
 * Given a {@link CircuitBreaker}, it reports to that one (share it across every stream that calls one downstream).
 * Given options, it creates one breaker that every subscription through this operator shares.
 *
 * ```
 * requests: -a--b--c-d--e-----   one call each, through one shared breaker
 * calls:     a: -#  b: -#   e: -(v|)
 * output:   --X--X-R-R---v----   X the call's own error, R CircuitOpenError (upstream not subscribed)
 * state$:   c----o----h--c----   c closed, o open, h half-open
 *           (failureThreshold: 2, resetTimeout: 5)
 * ```
 *
 * ## Example
 * ```ts
 * import { catchError, mergeMap, of, switchMap } from 'rxjs';
 * import { fromFetch } from 'rxjs/fetch';
 * import { circuitBreak, isCircuitOpenError } from 'rxjs-backpressure';
 *
 * const guard = circuitBreak<Response>({
 *   failureThreshold: 5,
 *   callTimeout: 2_000, // fromFetch aborts the timed-out request
 *   resetTimeout: 10_000,
 *   isFailureResult: (response) => response.status >= 500,
 * });
 * const prices$ = requests$.pipe(
 *   mergeMap((id: string) =>
 *     fromFetch(`/prices/${id}`).pipe(
 *       guard,
 *       switchMap((response) => response.json() as Promise<Price>),
 *       catchError((e) => (isCircuitOpenError(e) ? of(cachedPrice(id)) : of(unknownPrice(id)))),
 *     ),
 *   ),
 * );
 * ```
 *
 * @param breaker a shared {@link CircuitBreaker}, or the options of one this operator creates (default: all defaults)
 * @see {@link CircuitBreaker} the breaker itself: state$, isolate(), reset(), toJSON()
 */
export function circuitBreak<T>(
  breaker: CircuitBreaker<any> | CircuitBreakerOptions<T> = {},
): MonoTypeOperatorFunction<T> {
  // A breaker (of any copy of the package) is known by its versioned port; anything else is options.
  let port = breakerPort(breaker);
  if (port === undefined) {
    breakerSettings('circuitBreak', breaker as CircuitBreakerOptions<never>);
    port = breakerPort(new CircuitBreaker(breaker as CircuitBreakerOptions<T>))!;
  }
  const shared = port;
  return (source) =>
    new Observable<T>((subscriber) => {
      const generation = shared.admit();
      if (typeof generation !== 'number') {
        subscriber.error(generation);
        return undefined;
      }
      return new Call<T>(shared, subscriber, generation, shared.timed ? shared.now() : 0).start(source);
    });
}
