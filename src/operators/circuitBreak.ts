import { Observable } from 'rxjs';
import type {
  MonoTypeOperatorFunction,
  SchedulerAction,
  SchedulerLike,
  Subscriber,
  Subscription,
  Unsubscribable,
} from 'rxjs';
import { CircuitBreaker, admitCall, breakerInternals, breakerSettings, settleCall } from '../breaker/CircuitBreaker.js';
import type { CallResult, CircuitBreakerOptions } from '../breaker/CircuitBreaker.js';
import { CallTimeoutError } from '../errors.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import type { SourceHandlers } from '../internal/subscriber.js';

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
 * requests: -a--b--c-d--e-----   one call each, through one shared breaker
 * calls:     a: -#  b: -#   e: -(v|)
 * output:   --X--X-R-R---v----   X the call's own error, R CircuitOpenError (upstream not subscribed)
 * state$:   c----o----h--c----   c closed, o open, h half-open
 *           (failureThreshold: 2, resetTimeout: 5)
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
  const guard: Guard = {
    breaker: shared,
    scheduler,
    timed,
    callTimeout: settings.callTimeout,
    isFailure: settings.isFailure,
  };

  return (source) =>
    new Observable<T>((subscriber) => {
      const generation = admitCall(shared);
      if (typeof generation !== 'number') {
        subscriber.error(generation);
        return undefined;
      }
      return new Call<T>(guard, subscriber, generation, timed ? scheduler.now() : 0).start(source);
    });
}

/** What a guarded subscription shares: the breaker and the settings the operator reads per call. */
interface Guard {
  breaker: CircuitBreaker;
  scheduler: SchedulerLike;
  timed: boolean;
  callTimeout: number | undefined;
  isFailure: ((error: unknown) => boolean) | undefined;
}

/**
 * One call: the handlers its source subscriber reports to, and its teardown. A class rather than closures, so a call
 * allocates one object and no functions.
 */
class Call<T> implements SourceHandlers<T>, Unsubscribable {
  private emitted = false;
  private settled = false;
  private upstream: Subscription | undefined = undefined;

  constructor(
    private readonly guard: Guard,
    private readonly subscriber: Subscriber<T>,
    private readonly generation: number,
    private readonly startedAt: number,
  ) {}

  /** Subscribes upstream; returns the teardown a call still running needs (one that already ended needs none). */
  start(source: Observable<T>): Unsubscribable | undefined {
    const upstream = new SourceSubscriber<T>(this.subscriber, this);
    this.upstream = upstream;
    source.subscribe(upstream);
    // A call that ended while subscribing (a synchronous source) needs no timer. Scheduling after subscribe also means
    // a source ending exactly at callTimeout ends before the timer: only a call running longer times out.
    const { callTimeout, scheduler } = this.guard;
    if (this.settled) return undefined;
    if (callTimeout !== undefined) this.subscriber.add(scheduler.schedule(timeOut, callTimeout, this));
    return this;
  }

  next(value: T): void {
    this.emitted = true;
    this.subscriber.next(value);
  }

  error(error: unknown): void {
    const { isFailure } = this.guard;
    let failed: boolean;
    try {
      failed = isFailure === undefined || isFailure(error);
    } catch (thrown) {
      this.end('failure');
      this.subscriber.error(thrown);
      return;
    }
    this.end(failed ? 'failure' : 'ignored');
    this.subscriber.error(error);
  }

  complete(): void {
    this.end('success');
    this.subscriber.complete();
  }

  timeOut(): void {
    if (this.settled) return;
    this.upstream?.unsubscribe();
    this.end('timeout');
    const { callTimeout } = this.guard;
    this.subscriber.error(new CallTimeoutError(`circuitBreak: call timed out after ${callTimeout} ms`, callTimeout!));
  }

  /** Teardown: a call unsubscribed before it ended succeeded if it emitted, else it counts as neither. */
  unsubscribe(): void {
    if (!this.settled) this.end(this.emitted ? 'success' : 'none');
  }

  private end(result: CallResult): void {
    this.settled = true;
    settleCall(this.guard.breaker, this.generation, result, this.startedAt);
  }
}

function timeOut(this: SchedulerAction<Call<unknown>>, call?: Call<unknown>): void {
  call!.timeOut();
}
