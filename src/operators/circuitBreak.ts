import { Observable } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { CircuitBreaker, admitCall, breakerInternals, breakerSettings, settleCall } from '../breaker/CircuitBreaker.js';
import type { CallResult, CircuitBreakerOptions } from '../breaker/CircuitBreaker.js';
import { CallTimeoutError } from '../errors.js';
import { SourceSubscriber } from '../internal/subscriber.js';

/**
 * Guards an observable with a circuit breaker: each subscription is one call, refused at once while the circuit is
 * open.
 *
 * One subscription is one call. While the circuit is open, half-open with its trial calls taken, or isolated,
 * subscribing errors at once with `CircuitOpenError` (carrying `retryAfter` ms) and upstream is not subscribed. A call
 * succeeds when it completes, or when it is unsubscribed after emitting at least one value; it fails when it errors
 * with an error `isFailure` accepts, or runs past `callTimeout` (it is then unsubscribed from upstream and errors with
 * `CallTimeoutError`); unsubscribed before any value it counts as neither (a trial call then frees its slot). The
 * breaker learns a result before the error or completion is forwarded, so a `retry` resubscribing at once already
 * sees the new state.
 *
 * Given a {@link CircuitBreaker}, it reports to that one (share it across every stream that calls one downstream).
 * Given options, it creates one breaker that every subscription through this operator shares.
 *
 * ```
 * calls (per request in mergeMap, failureThreshold 2, resetTimeout 5):
 * request:  -a--b--c--d------e--
 * upstream:  #  #           (e)|
 * output:   -#--#--O--O------e|      (# upstream error, O CircuitOpenError without subscribing upstream)
 * ```
 *
 * ## Example
 * ```ts
 * import { catchError, mergeMap, of } from 'rxjs';
 * import { ajax } from 'rxjs/ajax';
 * import { circuitBreak, isCircuitOpenError } from 'rxjs-backpressure';
 *
 * const guard = circuitBreak<Price>({ failureThreshold: 5, callTimeout: 2_000, resetTimeout: 10_000 });
 * const prices$ = requests$.pipe(
 *   mergeMap((id) =>
 *     ajax.getJSON<Price>(`/prices/${id}`).pipe(
 *       guard,
 *       catchError((e) => (isCircuitOpenError(e) ? of(cachedPrice(id)) : of(unknownPrice(id)))),
 *     ),
 *   ),
 * );
 * ```
 *
 * @param breaker a shared {@link CircuitBreaker}, or the options of one this operator creates
 * @see {@link CircuitBreaker} the breaker itself: state$, isolate(), reset(), toJSON()
 */
export function circuitBreak<T>(breaker: CircuitBreaker | CircuitBreakerOptions): MonoTypeOperatorFunction<T> {
  let shared: CircuitBreaker;
  if (breaker instanceof CircuitBreaker) {
    shared = breaker;
  } else {
    breakerSettings('circuitBreak', breaker);
    shared = new CircuitBreaker(breaker);
  }
  const { timed, scheduler, settings } = breakerInternals(shared);
  const { callTimeout, isFailure } = settings;

  return (source) =>
    new Observable<T>((subscriber) => {
      const generation = admitCall(shared);
      if (typeof generation !== 'number') {
        subscriber.error(generation);
        return;
      }
      const startedAt = timed ? scheduler.now() : 0;
      let emitted = false;
      let settled = false;
      const end = (result: CallResult): void => {
        settled = true;
        settleCall(shared, generation, result, startedAt);
      };

      const upstream = new SourceSubscriber<T>(subscriber, {
        next: (value) => {
          emitted = true;
          subscriber.next(value);
        },
        error: (error) => {
          let failed: boolean;
          try {
            failed = isFailure === undefined || isFailure(error);
          } catch (thrown) {
            end('failure');
            subscriber.error(thrown);
            return;
          }
          end(failed ? 'failure' : 'ignored');
          subscriber.error(error);
        },
        complete: () => {
          end('success');
          subscriber.complete();
        },
      });
      if (callTimeout !== undefined) {
        subscriber.add(
          scheduler.schedule(() => {
            if (settled) return;
            upstream.unsubscribe();
            end('timeout');
            subscriber.error(new CallTimeoutError(`circuitBreak: call timed out after ${callTimeout} ms`, callTimeout));
          }, callTimeout),
        );
      }
      source.subscribe(upstream);
      return () => {
        if (!settled) end(emitted ? 'success' : 'none');
      };
    });
}
