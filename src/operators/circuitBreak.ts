import { Observable } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscriber, Subscription, Unsubscribable } from 'rxjs';
import { CircuitBreaker, admitCall, breakerInternals, breakerSettings, settleCall } from '../breaker/CircuitBreaker.js';
import type { CallResult, CircuitBreakerOptions } from '../breaker/CircuitBreaker.js';
import { CallTimeoutError } from '../errors.js';
import { scheduleAfter } from '../internal/clock.js';
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
 * @param breaker a shared {@link CircuitBreaker}, or the options of one this operator creates (default: all defaults)
 * @see {@link CircuitBreaker} the breaker itself: state$, isolate(), reset(), toJSON()
 */
export function circuitBreak<T>(breaker: CircuitBreaker | CircuitBreakerOptions = {}): MonoTypeOperatorFunction<T> {
  let shared: CircuitBreaker;
  if (isCircuitBreaker(breaker)) {
    shared = breaker;
  } else {
    breakerSettings('circuitBreak', breaker);
    shared = new CircuitBreaker(breaker);
  }
  const { timed, scheduler, clock, settings } = breakerInternals(shared);
  const { callTimeout, isFailure } = settings;
  const guard: Guard = { breaker: shared, isFailure, scheduler, callTimeout };

  return (source) =>
    new Observable<T>((subscriber) => {
      const generation = admitCall(shared);
      if (typeof generation !== 'number') {
        subscriber.error(generation);
        return undefined;
      }
      return new Call<T>(guard, subscriber, generation, timed ? clock.now() : 0).start(source);
    });
}

/**
 * A {@link CircuitBreaker}, from this copy of the package or from another (an ESM and a CommonJS copy, two installs):
 * known by the methods circuitBreak calls, which no options object has.
 */
function isCircuitBreaker(value: unknown): value is CircuitBreaker {
  if (value instanceof CircuitBreaker) return true;
  const candidate = value as Record<string, unknown> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate['admit'] === 'function' &&
    typeof candidate['settle'] === 'function' &&
    typeof candidate['isolate'] === 'function'
  );
}

/** What the subscriptions through one circuitBreak operator share. */
interface Guard {
  breaker: CircuitBreaker;
  isFailure: ((error: unknown) => boolean) | undefined;
  scheduler: SchedulerLike;
  callTimeout: number | undefined;
}

/**
 * One call: the handlers its source subscriber reports to, and its teardown. A class rather than closures, so a call
 * allocates one object and no functions beyond its timer's.
 *
 * With a `callTimeout`, each running call holds its own timer, armed when it starts. The timer decides: a call times
 * out when its timer fires, never because a clock reading says the deadline passed, so a wall clock stepping forward
 * times out nothing early, and one stepping back delays nothing (timers run on a monotonic clock). At its deadline the
 * timer first lets everything else due at that instant happen (a source ending, an unsubscription), then times the
 * call out if it is still running.
 */
class Call<T> implements SourceHandlers<T>, Unsubscribable {
  private emitted = false;
  private settled = false;
  private upstream: Subscription | undefined = undefined;
  private timer: Subscription | undefined = undefined;

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
    if (this.settled) return undefined; // it ended while subscribing (a synchronous source): no deadline to watch
    const { callTimeout, scheduler } = this.guard;
    if (callTimeout !== undefined) {
      this.timer = scheduleAfter(scheduler, callTimeout, () => {
        // due: let whatever else falls due at this instant run first, then time out what still runs
        this.timer = scheduler.schedule(() => this.timeOut(callTimeout));
      });
    }
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

  /** Its timer fired: the call outlived `callTimeout`. */
  private timeOut(timeout: number): void {
    if (this.settled) return;
    this.upstream?.unsubscribe();
    this.end('timeout');
    this.subscriber.error(new CallTimeoutError(`circuitBreak: call timed out after ${timeout} ms`, timeout));
  }

  /** Teardown: a call unsubscribed before it ended succeeded if it emitted, else it counts as neither. */
  unsubscribe(): void {
    if (!this.settled) this.end(this.emitted ? 'success' : 'none');
  }

  private end(result: CallResult): void {
    this.settled = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
    settleCall(this.guard.breaker, this.generation, result, this.startedAt);
  }
}
