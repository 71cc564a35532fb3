import { Observable } from 'rxjs';
import type { ObservableInput, OperatorFunction } from 'rxjs';
import {
  boolean,
  fail,
  fn,
  observerOrFunction,
  oneOf,
  optional,
  positiveCount,
  settings,
  withDefault,
} from '../internal/options.js';
import type { Check, Schema } from '../internal/options.js';
import { limiterPort } from '../limit/port.js';
import type { ConcurrencyLimiter, LimiterPort } from '../limit/port.js';
import type { DropHandler } from '../types.js';
import { DrainRun } from './drainRun.js';
import type { CreditTarget, DrainSettings } from './drainRun.js';

/** Options of {@link drain} and {@link Demand.drain}. */
export interface DrainOptions<T> {
  /**
   * Projects running at once: a positive integer or Infinity (default 1), or a {@link ConcurrencyLimiter} (e.g.
   * `adaptiveConcurrency()`) whose limit may move and may be shared by several drains. A limiter written by hand, any
   * `{ limit, limit$ }` (a `limit` getter and an Observable of it), works too: its `limit` is read at every permit
   * taken and `limit$` wakes waiting drains when it rises; drains given the same object share its limit.
   */
  concurrency?: number | ConcurrencyLimiter | undefined;
  /** Results in the order of the values that produced them (as `concatMap` orders them). Default false. */
  ordered?: boolean | undefined;
  /**
   * A project that errors: `'stop'` (default) errors the stream, and the other values in flight are reported
   * `'cancelled'`; `'continue'` reports the value `'failed'` with its error and goes on with the next.
   */
  onError?: 'stop' | 'continue' | undefined;
  /** Told of values whose project did not finish: `'failed'`, and `'error'` / `'cancelled'` for values in flight. */
  onDrop?: DropHandler<T> | undefined;
}

const concurrencyCheck: Check<number | LimiterPort> = (operator, option, value) => {
  if (value === undefined) return 1;
  if (typeof value === 'number') return positiveCount(operator, option, value);
  const port = limiterPort(value);
  if (port !== undefined) return port;
  return fail(
    operator,
    option,
    'a positive integer, Infinity or a ConcurrencyLimiter ({ limit, limit$ })',
    value,
    'type',
  );
};

const DRAIN = {
  concurrency: concurrencyCheck,
  ordered: withDefault(boolean, false),
  onError: withDefault(oneOf(['stop', 'continue'] as const), 'stop'),
  onDrop: optional(observerOrFunction<DropHandler<unknown>>),
} satisfies Schema<DrainOptions<unknown>>;

export function drainSettings<T, R>(
  operator: string,
  project: unknown,
  options: DrainOptions<T> | undefined,
): DrainSettings<T, R> {
  fn()(operator, 'project', project);
  const s = settings(operator, DRAIN, options ?? {});
  const { concurrency } = s;
  return {
    operator,
    project: project as (value: T, index: number) => ObservableInput<R>,
    concurrency: typeof concurrency === 'number' ? concurrency : undefined,
    limiter: typeof concurrency === 'number' ? undefined : concurrency,
    ordered: s.ordered,
    onError: s.onError,
    onDrop: s.onDrop as DropHandler<T> | undefined,
  };
}

/**
 * The demand-driven consumer: a `mergeMap` that runs at most `concurrency` projects at once and takes a value only
 * when it has room for it, slowing the producer upstream to its pace.
 *
 * At subscription it links itself to the nearest demand-aware producer upstream in its pipe chain (a {@link pull}, or
 * a queue operator given no `demand`: {@link dropOnFull}, {@link bufferBounded}, ...) and gives it `concurrency`
 * credits, then one more each time a project ends. The producer emits only against that credit, so with no `Demand`
 * written by hand, `events$.pipe(dropOnFull({ capacity: 100 }), drain(save, { concurrency: 4 }))` holds at most 4 in
 * flight and 100 queued. Each subscription makes its own link, so `retry`, `repeat` and a second subscriber start
 * fresh.
 *
 * Between the producer and its drain, operators that let a value through or swallow it in the same call (`map`,
 * `tap`, `filter`, `take`, `skip`, `distinctUntilChanged`, `throttleTime`, the library's own operators) are fine: a
 * swallowed value gives its credit back. An operator that emits several values for one (`mergeMap(x => of(x, x))`)
 * or delays values (`delay`, `observeOn`, `debounceTime`) makes the drain error with a `BufferOverflowError` that
 * names the cause; put a queue operator after such an operator. Operators that subscribe to several sources (`merge`,
 * `combineLatest`) end the chain: the first demand-aware producer subscribed links, the values of the others reach the
 * drain outside its emissions and error it. Values an operator adds once the producer has ended (`endWith`,
 * `concatWith`, `defaultIfEmpty`) are taken within the credit still outstanding, and beyond it error the drain,
 * naming those operators. After 4096 swallowed values in a row, their credit comes back after a 1 ms pause, so a
 * `delay` after a producer that never ends is named too, not read forever. A drain linked to nothing (a plain
 * `Subject` upstream) has requested `concurrency` values, takes that many and errors on the next, naming the fix: it
 * never buffers.
 *
 * A project result that is a Promise, an array or an iterable is read directly, without an inner subscription.
 * `ordered: true` emits results in input order while up to `concurrency` projects run (a finished project's slot is
 * reused once the results before it are out). `onError: 'continue'` reports a failing value `'failed'` and goes on.
 *
 * ```
 * source:   pull(a, b, c, d)              (a generator: read only when the drain has credit)
 * project:  x => x--x|                    (2 frames of work)
 * drain(project, { concurrency: 2 })
 * output:   --a-b--c-d|   a and b run at once; c is read when a's project ends, d when b's does
 * ```
 *
 * ## Example
 * ```ts
 * import { drain, dropOnFull } from 'rxjs-backpressure';
 *
 * // At most 4 saves in flight and 100 events waiting; beyond that the oldest waiting event is dropped.
 * events$
 *   .pipe(
 *     dropOnFull({ capacity: 100, overflow: 'drop-oldest' }),
 *     drain((event) => save(event), { concurrency: 4, onError: 'continue' }),
 *   )
 *   .subscribe();
 * ```
 *
 * @param project maps each value (and its index) to the work to run, as in `mergeMap`
 * @param options `concurrency` (a number or a limiter), `ordered`, `onError`, `onDrop`
 * @see {@link pull} a source it links to
 * @see {@link Demand.drain} the same consumer on a hand-held Demand
 */
export function drain<T, R>(
  project: (value: T, index: number) => ObservableInput<R>,
  options?: DrainOptions<T>,
): OperatorFunction<T, R> {
  return drainWith(drainSettings<T, R>('drain', project, options), undefined);
}

/** The drain operator for validated settings: linked (no target), or on a hand-held Demand (`target`). */
export function drainWith<T, R>(spec: DrainSettings<T, R>, target: CreditTarget | undefined): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const run = new DrainRun<T, R>(spec, subscriber, target);
      run.start(source);
      return () => run.teardown();
    });
}
