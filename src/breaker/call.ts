import type { Observable, Subscriber, Subscription, Unsubscribable } from 'rxjs';
import { CallTimeoutError } from '../errors.js';
import { scheduleAfter } from '../internal/clock.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import type { SourceHandlers } from '../internal/subscriber.js';
import type { BreakerPort, CallResult } from './port.js';

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
export class Call<T> implements SourceHandlers<T>, Unsubscribable {
  private emitted = false;
  private settled = false;
  private upstream: Subscription | undefined = undefined;
  private timer: Subscription | undefined = undefined;

  constructor(
    private readonly port: BreakerPort,
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
    const { callTimeout, scheduler } = this.port;
    if (callTimeout !== undefined) {
      this.timer = scheduleAfter(scheduler, callTimeout, () => {
        // due: let whatever else falls due at this instant run first, then time out what still runs
        this.timer = scheduler.schedule(() => this.timeOut(callTimeout));
      });
    }
    return this;
  }

  next(value: T): void {
    const { isFailureResult } = this.port;
    if (isFailureResult !== undefined && !this.settled) {
      let failed: boolean;
      try {
        failed = isFailureResult(value);
      } catch (thrown) {
        this.end('failure');
        throw thrown; // the source subscriber errors the stream with it and unsubscribes upstream
      }
      if (failed) this.end('failure'); // the verdict, before the value is forwarded; the value still goes on
    }
    this.emitted = true;
    this.subscriber.next(value);
  }

  error(error: unknown): void {
    if (this.settled) {
      this.subscriber.error(error); // failed at a value already
      return;
    }
    const { isFailure } = this.port;
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
    if (this.settled) return; // ended, or failed at a value: no longer timed
    this.upstream?.unsubscribe();
    this.end('timeout');
    this.subscriber.error(new CallTimeoutError(`circuitBreak: call timed out after ${timeout} ms`, timeout));
  }

  /** Teardown: a call unsubscribed before it ended succeeded if it emitted, else it counts as neither. */
  unsubscribe(): void {
    if (!this.settled) this.end(this.emitted ? 'success' : 'none');
  }

  /** The call's verdict, given once: a call that failed at a value keeps that verdict whatever it does next. */
  private end(result: CallResult): void {
    if (this.settled) return;
    this.settled = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.port.settle(this.generation, result, this.startedAt);
  }
}
