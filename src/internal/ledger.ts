import { config } from 'rxjs';
import type { SchedulerLike, Subscriber } from 'rxjs';
import { endWith, release } from '../demand/link.js';
import type { Link } from '../demand/link.js';
import type { QueueRecorder } from '../metrics/port.js';
import type { DropHandler, DropReason, Dropped } from '../types.js';
import { describe } from './format.js';

/**
 * Where a run stands. `open`: taking values. `closing`: upstream completed, held values still go out (then
 * `completed`). The other three are ends: nothing is emitted after them.
 */
export type Lifecycle = 'open' | 'closing' | 'completed' | 'errored' | 'cancelled';

/** What a guarded callback returns when it threw (the stream has then errored). */
export const FAILED: unique symbol = Symbol('failed') as never;

/**
 * The ledger of "nothing is lost silently", one per subscription of every operator that holds or drops values.
 *
 * Every value an operator receives ends exactly once: emitted, or reported here with a reason. The ledger reports a
 * drop ({@link Ledger.drop}), errors the stream with what it holds ({@link Ledger.fail}), tears down what is held on
 * unsubscription ({@link Ledger.teardown}), reports a value that arrives after the end ({@link Ledger.late}), guards a
 * user callback ({@link Ledger.call}) and counts the slots that drops and emissions free, which the operator gives back
 * upstream as credit ({@link Ledger.freed}).
 *
 * The order on error, for every operator: the values held, oldest first, then the arrival that caused the error.
 *
 * An `onDrop` that throws while the stream runs errors the stream with that error. One that throws while the stream
 * is already failing cannot replace the error it is failing with: it becomes that error's `cause` (when the error is
 * an object without one), else it goes to rxjs' `config.onUnhandledError` (thrown asynchronously when that is unset,
 * like any rxjs error nobody handles). One that throws during unsubscription is thrown from `unsubscribe()` (rxjs
 * wraps it in an `UnsubscriptionError`).
 */
export abstract class Ledger<T, R = T> {
  protected state: Lifecycle = 'open';
  /** Slots freed (values emitted or dropped) since the producer upstream was last given credit for them. */
  protected freed = 0;
  /**
   * The consumer's link this run claimed as a producer, if any: released when the run ends, and on offer again while
   * the end is signalled, so an operator that resubscribes right then (`retry`, `repeat`) links the new run.
   */
  protected down: Link | undefined;
  /** What this run claimed `down` with (tells its claim from a later one). */
  protected readonly wake = (): void => this.credited();
  private readonly report: ((drop: Dropped<T>) => void) | undefined;
  /** What `onDrop` threw while the operator was reporting, before `fail`, the values a failure ends. */
  protected thrownWhileFailing: unknown = undefined;
  /** The error the stream failed with. */
  private failure: unknown = undefined;

  protected constructor(
    readonly operator: string,
    protected readonly destination: Subscriber<R>,
    onDrop: DropHandler<T> | undefined,
    protected readonly scheduler: SchedulerLike,
    protected readonly recorder: QueueRecorder | undefined,
  ) {
    this.report = reporter(onDrop);
  }

  /** Every value still held, oldest first, each visited once and forgotten; timers for them are cancelled. */
  protected abstract release(visit: (value: T) => void): void;

  /** Called once when the run ends, however it ends: unsubscribe credit streams, stop controllers. */
  protected abstract ended(): void;

  /** Credit arrived from below (on the claimed link, or the run's own). */
  protected credited(): void {}

  /** The run has ended: nothing more is emitted. */
  get over(): boolean {
    const { state } = this;
    return state === 'completed' || state === 'errored' || state === 'cancelled';
  }

  /** Reports a value dropped while the stream runs; an `onDrop` that throws errors the stream. */
  protected drop(value: T, reason: DropReason, fromQueue: boolean, ...error: [] | [unknown]): void {
    this.recorder?.dropped(reason, fromQueue);
    this.freed++;
    if (this.report === undefined) return;
    const drop: Dropped<T> = { value, reason, at: this.scheduler.now() };
    if (error.length === 1) drop.error = error[0];
    try {
      this.report(drop);
    } catch (thrown) {
      this.fail(thrown);
    }
  }

  /**
   * A value that arrived after the end (pushed into the source from `onDrop` or a callback while the stream was
   * failing): it is received, so it is reported, `'error'` or `'cancelled'` by how the stream ended.
   */
  protected late(value: T): void {
    const errored = this.state === 'errored';
    const thrown = this.quietly(value, errored ? 'error' : 'cancelled', false);
    if (thrown === undefined) return;
    // part of the failure that ended the stream: the cause of its error (or that error itself, thrown again)
    if (errored) attachCause(this.failure, thrown);
    else reportUnhandled(thrown);
  }

  /** Errors the stream: every value held (oldest first), then the arrival that caused it, are reported `'error'`. */
  fail(error: unknown, ...arrival: [] | [T]): void {
    if (this.over) {
      if (arrival.length === 1) this.late(arrival[0]);
      return;
    }
    this.state = 'errored';
    this.failure = error;
    let thrown: unknown = this.thrownWhileFailing;
    this.release((value) => {
      const error = this.quietly(value, 'error', true);
      if (thrown === undefined) thrown = error;
    });
    if (arrival.length === 1) {
      const error = this.quietly(arrival[0], 'error', false);
      if (thrown === undefined) thrown = error;
    }
    this.ended();
    if (thrown !== undefined) attachCause(error, thrown);
    endWith(this.down, this.wake, () => this.destination.error(error));
  }

  /** Completes the stream (the operator has checked that nothing is held). */
  protected finish(): void {
    if (this.over) return;
    this.state = 'completed';
    this.ended();
    endWith(this.down, this.wake, () => this.destination.complete());
  }

  /** Unsubscribed (or ended): values still held are reported `'cancelled'`; no timer is left behind. */
  teardown(): void {
    let thrown: unknown;
    if (this.over) {
      this.release(() => undefined);
    } else {
      this.state = 'cancelled';
      this.release((value) => {
        const error = this.quietly(value, 'cancelled', true);
        if (thrown === undefined) thrown = error;
      });
      this.ended();
    }
    if (this.down !== undefined) release(this.down, this.wake);
    if (thrown !== undefined) throw thrown;
  }

  /** Calls a user callback about `arrival`; if it throws, the stream errors with its error and FAILED is returned. */
  protected call<A, R>(callback: (argument: A) => R, argument: A, arrival: T): R | typeof FAILED {
    try {
      return callback(argument);
    } catch (error) {
      this.fail(error, arrival);
      return FAILED;
    }
  }

  /** A callback returned what it must not: the stream errors with a RangeError naming it and what it returned. */
  protected reject(callback: string, expected: string, got: unknown, arrival: T): typeof FAILED {
    this.fail(new RangeError(`${this.operator}: ${callback} must return ${expected}, got ${describe(got)}`), arrival);
    return FAILED;
  }

  /** Reports a drop during termination; returns what `onDrop` threw (the first error has already won). */
  protected quietly(value: T, reason: DropReason, fromQueue: boolean): unknown {
    this.recorder?.dropped(reason, fromQueue);
    if (this.report === undefined) return undefined;
    try {
      this.report({ value, reason, at: this.scheduler.now() });
      return undefined;
    } catch (error) {
      return error;
    }
  }
}

/** Turns an `onDrop` option (a function, or an Observer like tap's) into one function; undefined if nobody listens. */
export function reporter<T>(handler: DropHandler<T> | undefined): ((drop: Dropped<T>) => void) | undefined {
  if (handler === undefined) return undefined;
  if (typeof handler === 'function') return handler;
  if (typeof handler.next !== 'function') return undefined;
  return (drop) => handler.next!(drop);
}

/** An error thrown while the stream was already failing: the cause of the stream's error, when it can carry one. */
function attachCause(error: unknown, thrown: unknown): void {
  if (thrown === error) return;
  if (typeof error === 'object' && error !== null && !('cause' in error) && Object.isExtensible(error)) {
    (error as { cause?: unknown }).cause = thrown;
  } else {
    reportUnhandled(thrown);
  }
}

/** An error with nobody to tell: rxjs' `config.onUnhandledError`, else thrown asynchronously (as rxjs does). */
export function reportUnhandled(error: unknown): void {
  const handler = config.onUnhandledError;
  if (handler) {
    handler(error);
    return;
  }
  void Promise.reject(error);
}
