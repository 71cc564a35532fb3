import { Observable } from 'rxjs';
import type { ObservableInput, OperatorFunction, Subscriber } from 'rxjs';
import { addCredit, creditError, isCredit } from '../internal/credit.js';
import { drainSettings, drainWith } from './drain.js';
import type { DrainOptions } from './drain.js';

/**
 * The request(n) channel between one consumer and one producer (Reactive Streams `Subscription.request`).
 *
 * A `Demand` is an Observable of credits. The consumer calls `request(n)`; the producer (a queue operator's
 * `demand` option, or a {@link pull} source) subscribes and emits one value per credit. Credit requested while
 * nothing is subscribed is kept and handed, summed, to the next subscriber, so `request()` before `subscribe()` is not
 * lost. With several subscribers every one sees every credit; one `Demand` is meant to link one producer to one
 * consumer.
 *
 * ```
 * request:      1   2       1
 * demand:   ----1---2-------1---
 * source:   -a-b-c-d-e----------|
 * bufferBounded({ capacity: 5, demand })
 * output:   ----a---(bc)----d----
 * ```
 *
 * ## Example
 * ```ts
 * import { Demand, bufferBounded } from 'rxjs-backpressure';
 *
 * const demand = new Demand();
 * messages$.pipe(bufferBounded({ capacity: 100, demand })).subscribe((m) => {
 *   worker.process(m).then(() => demand.request(1));
 * });
 * demand.request(4); // four in flight at most
 * ```
 *
 * @see {@link pull} a source that obeys a Demand
 * @see {@link Demand.drain} the consumer side as an operator
 */
export class Demand extends Observable<number> {
  private readonly listeners: Subscriber<number>[] = [];
  private readonly watchers: Subscriber<number>[] = [];
  private pending = 0;

  /**
   * Every credit requested on this Demand, as it is requested, without taking any: watching a Demand (in a marble
   * test, in a log) never changes what its producer receives. Hot: a watcher sees the requests made after it
   * subscribed (no replay), and completes never.
   *
   * ```
   * request:   1   2       1
   * credits$:  ----1---2-------1---
   * ```
   *
   * ## Example
   * ```ts
   * import { Demand } from 'rxjs-backpressure';
   *
   * const demand = new Demand();
   * demand.credits$.subscribe((n) => console.log(`consumer asked for ${n}`));
   * demand.request(4);
   * ```
   */
  readonly credits$: Observable<number> = new Observable<number>((watcher) => {
    this.watchers.push(watcher);
    return () => {
      const at = this.watchers.indexOf(watcher);
      if (at >= 0) this.watchers.splice(at, 1);
    };
  });

  constructor() {
    super((subscriber) => {
      this.listeners.push(subscriber);
      if (this.pending > 0) {
        const n = this.pending;
        this.pending = 0;
        subscriber.next(n);
      }
      return () => {
        const at = this.listeners.indexOf(subscriber);
        if (at >= 0) this.listeners.splice(at, 1);
      };
    });
  }

  /**
   * Asks the producer for `n` more values.
   *
   * @param n a positive integer, or `Infinity` for unbounded; sums past 2^53 - 1 are unbounded too (Reactive Streams
   * 3.17). Anything else (0, negative, NaN, fractional, a non-number) throws `RangeError` (Reactive Streams 3.9).
   */
  request(n: number): void {
    if (!isCredit(n)) throw creditError('Demand.request', n);
    const { listeners, watchers } = this;
    if (watchers.length > 0) for (const watcher of watchers.slice()) watcher.next(n);
    if (listeners.length === 0) this.pending = addCredit(this.pending, n);
    else if (listeners.length === 1) listeners[0]!.next(n);
    else for (const listener of listeners.slice()) listener.next(n);
  }

  /**
   * The demand-driven consumer: a `mergeMap` that keeps exactly `concurrency` values requested upstream.
   *
   * After subscribing upstream it requests `concurrency` credits on this `Demand`, then one more each time an inner
   * observable completes while upstream is still active (once upstream has completed, no further credit is requested:
   * it would only wait on the `Demand` for a later subscriber). A value that arrives without having been requested
   * errors the stream with `BufferOverflowError` (nothing is buffered here). Between the producer (a queue operator or
   * {@link pull}) and its `drain`, only one-to-one operators (`map`, `tap`) may stand: a `filter` in between swallows
   * values whose credit is then never returned, and the pipeline stalls.
   *
   * ```
   * source:   -a-b-c-------|      (bufferBounded({ capacity: 5, demand }))
   * project:  x => x--x|          (2 frames of work)
   * demand.drain(project)
   * output:   -a--a-b--b-c--c|
   * ```
   *
   * ## Example
   * ```ts
   * import { Demand, pull } from 'rxjs-backpressure';
   *
   * const demand = new Demand();
   * pull(readLines(file), demand)
   *   .pipe(demand.drain((line) => saveToDb(line), { concurrency: 4 }))
   *   .subscribe();
   * ```
   *
   * @param project maps each value (and its index) to the work to run, as in `mergeMap`
   * @param options as {@link drain}'s: `concurrency` (a positive integer or Infinity, default 1, or a limiter),
   *   `ordered`, `onError`, `onDrop`
   */
  drain<T, R>(
    project: (value: T, index: number) => ObservableInput<R>,
    options?: DrainOptions<T>,
  ): OperatorFunction<T, R> {
    return drainWith(drainSettings<T, R>('drain', project, options), this);
  }
}
