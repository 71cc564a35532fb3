import { Subscription, asyncScheduler, from, isObservable } from 'rxjs';
import type { Observable, ObservableInput, Observer, Subscriber } from 'rxjs';
import { BufferOverflowError } from '../errors.js';
import { Ledger } from '../internal/ledger.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import { RingBuffer } from '../queue/RingBuffer.js';
import type { LimiterPort } from '../limit/port.js';
import type { DropHandler } from '../types.js';
import { ENDED, EXTRA, LATE, PAID, UNLINKED, accept, createLink, grant, offer } from './link.js';
import type { Arrival, Link } from './link.js';

/** What {@link drain} and {@link Demand.drain} validate, shared by every subscription. */
export interface DrainSettings<T, R> {
  readonly operator: string;
  readonly project: (value: T, index: number) => ObservableInput<R>;
  /** The fixed limit, or undefined with a limiter. */
  readonly concurrency: number | undefined;
  readonly limiter: LimiterPort | undefined;
  readonly ordered: boolean;
  readonly onError: 'stop' | 'continue';
  readonly onDrop: DropHandler<T> | undefined;
}

/** Something a drain grants its credit to besides the link: a hand-held Demand. */
export interface CreditTarget {
  request(n: number): void;
}

/**
 * One value whose project runs (or, ordered, whose results wait for the ones before it). It is also the subscriber of
 * an Observable result: a Subscription that is an Observer, which rxjs uses as it is. It is not added to the drain's
 * destination (that would cost a splice per value when it ends); the run keeps its live entries in a list and
 * unsubscribes them itself at the end.
 */
class Entry<T, R> extends Subscription implements Observer<R> {
  /** Results held until the entries before it are out (ordered mode). */
  results: R[] | undefined = undefined;
  done = false;
  /** Ordered: its project is over but it waits in the line behind an earlier one (it still holds its slot). */
  waiting = false;
  /** Set when its project failed and the drain went on (the limiter learns it when the entry leaves). */
  failure: { error: unknown } | undefined = undefined;
  /** Neighbours in the run's list of live entries (unordered mode). */
  before: Entry<T, R> | undefined = undefined;
  after: Entry<T, R> | undefined = undefined;

  constructor(
    private readonly run: DrainRun<T, R>,
    readonly value: T,
    readonly started: number,
  ) {
    super();
  }

  next(result: R): void {
    if (!this.done) this.run.result(this, result);
  }

  error(error: unknown): void {
    if (!this.done) this.run.failed(this, error);
  }

  complete(): void {
    if (!this.done) this.run.settled(this);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * One subscription of a drain. Entries are made only when something needs them: an Observable result (its
 * subscriber), `onDrop` (values in flight), `ordered` (held results) or a limiter (each project's duration). A Promise,
 * array or iterable result with none of those needs no per-value object.
 */
export class DrainRun<T, R> extends Ledger<T, R> {
  private readonly link: Link;
  private readonly tracked: boolean;
  /** Ordered: every entry, in input order. */
  private readonly line: RingBuffer<Entry<T, R>> | undefined;
  /** Unordered: the live entries, oldest first. */
  private first: Entry<T, R> | undefined = undefined;
  private last: Entry<T, R> | undefined = undefined;
  private active = 0;
  private index = 0;
  private upstreamDone = false;
  private stopAvailable: (() => void) | undefined;
  private readonly resolved = (result: unknown): void => {
    if (this.over) return;
    this.destination.next(result as R);
    this.settled(undefined);
  };
  private readonly rejected = (error: unknown): void => {
    if (this.over) return;
    this.failed(undefined, error);
  };

  constructor(
    private readonly spec: DrainSettings<T, R>,
    destination: Subscriber<R>,
    private readonly target: CreditTarget | undefined,
  ) {
    super(spec.operator, destination, spec.onDrop, asyncScheduler, undefined);
    this.link = createLink(spec.operator, 0);
    this.tracked = spec.onDrop !== undefined || spec.ordered || spec.limiter !== undefined;
    if (spec.ordered) this.line = new RingBuffer<Entry<T, R>>();
  }

  start(source: Observable<T>): void {
    const upstream = new SourceSubscriber<T>(this.destination, {
      next: (value) => this.arrive(value),
      error: (error) => this.fail(error),
      complete: () => this.upstreamComplete(),
    });
    const { limiter, concurrency } = this.spec;
    if (this.target !== undefined) {
      // A hand-held Demand: credit is requested on it, after subscribing, as Demand.drain always has.
      offer(undefined, () => source.subscribe(upstream));
      if (limiter !== undefined) {
        this.stopAvailable = limiter.onAvailable(() => this.topUp());
        this.topUp();
      } else {
        this.replenish(concurrency!);
      }
      return;
    }
    if (limiter !== undefined) {
      this.stopAvailable = limiter.onAvailable(() => this.topUp());
      this.topUp();
    } else {
      this.link.credit = concurrency!;
    }
    offer(this.link, () => source.subscribe(upstream));
  }

  private arrive(value: T): void {
    if (this.over) return;
    const arrival = accept(this.link);
    if (arrival !== PAID && arrival !== UNLINKED) {
      this.fail(this.overflow(arrival), value);
      return;
    }
    this.active++;
    const { project, limiter } = this.spec;
    const entry = this.tracked ? this.enter(value, limiter === undefined ? 0 : limiter.now()) : undefined;
    let result: ObservableInput<R>;
    try {
      result = project(value, this.index++);
    } catch (error) {
      this.failed(entry, error, value);
      return;
    }
    if (limiter !== undefined) this.topUp();
    this.run(result, entry, value);
  }

  /** A new live entry: at the end of the line (ordered) or of the list. */
  private enter(value: T, started: number): Entry<T, R> {
    const entry = new Entry<T, R>(this, value, started);
    if (this.line !== undefined) {
      this.line.push(entry);
      return entry;
    }
    entry.before = this.last;
    if (this.last === undefined) this.first = entry;
    else this.last.after = entry;
    this.last = entry;
    return entry;
  }

  /** An entry leaves the list (unordered mode). */
  private leave(entry: Entry<T, R>): void {
    const { before, after } = entry;
    if (before === undefined) this.first = after;
    else before.after = after;
    if (after === undefined) this.last = before;
    else after.before = before;
    entry.before = entry.after = undefined;
  }

  /** Runs a project's result: a Promise, array or iterable directly; anything else through an inner subscription. */
  private run(result: ObservableInput<R>, entry: Entry<T, R> | undefined, value: T): void {
    if (isPromiseLike(result)) {
      if (entry === undefined) result.then(this.resolved, this.rejected);
      else
        result.then(
          (r) => {
            if (this.over || entry.done) return;
            this.result(entry, r as R);
            this.settled(entry);
          },
          (error: unknown) => {
            if (!this.over && !entry.done) this.failed(entry, error);
          },
        );
      return;
    }
    if (Array.isArray(result)) {
      for (let i = 0; i < result.length && !this.over; i++) this.result(entry, result[i] as R);
      if (!this.over) this.settled(entry);
      return;
    }
    if (!isObservable(result) && typeof (result as Iterable<R>)[Symbol.iterator] === 'function') {
      try {
        for (const r of result as Iterable<R>) {
          if (this.over) return;
          this.result(entry, r);
        }
      } catch (error) {
        this.failed(entry, error, value);
        return;
      }
      if (!this.over) this.settled(entry);
      return;
    }
    let observable: Observable<R>;
    try {
      observable = isObservable(result) ? (result as Observable<R>) : from(result);
    } catch (error) {
      this.failed(entry, error, value);
      return;
    }
    observable.subscribe(entry ?? this.enter(value, 0));
  }

  /** A project's result: out now, or held until the results of the values before it are out (ordered). */
  result(entry: Entry<T, R> | undefined, result: R): void {
    if (this.over) return;
    if (entry !== undefined && this.line !== undefined && this.line.peek() !== entry) {
      (entry.results ??= []).push(result);
      return;
    }
    this.destination.next(result);
  }

  /** A project completed. */
  settled(entry: Entry<T, R> | undefined): void {
    if (!this.over) this.end(entry);
  }

  /** A project failed (threw, rejected or errored) for `entry` (or `value`, when it has no entry). */
  failed(entry: Entry<T, R> | undefined, error: unknown, ...value: [] | [T]): void {
    if (this.over) return;
    const subject = (entry !== undefined ? [entry.value] : value) as [] | [T];
    if (this.spec.onError === 'stop') {
      if (entry !== undefined) {
        this.forget(entry);
        this.spec.limiter?.release(this.sample(entry, { error }));
      }
      this.cancelAll();
      this.fail(error, ...subject);
      return;
    }
    if (subject.length === 1) this.drop(subject[0], 'failed', false, error);
    if (this.over) return;
    if (entry !== undefined) entry.failure = { error };
    this.end(entry);
  }

  /** A project ended (completed, or failed with onError 'continue'): free its slot, flush ordered results. */
  private end(entry: Entry<T, R> | undefined): void {
    this.active--;
    if (entry === undefined) {
      this.freeSlot();
    } else {
      entry.done = true;
      entry.unsubscribe();
      if (this.line === undefined) {
        this.leave(entry);
        this.spec.limiter?.release(this.sample(entry, entry.failure));
        this.freeSlot();
      } else {
        entry.waiting = true;
        this.flush();
      }
    }
    this.finishIfIdle();
  }

  private sample(
    entry: Entry<T, R>,
    failure: { error: unknown } | undefined,
  ): { rtt: number; failed: boolean; error?: unknown } {
    const limiter = this.spec.limiter;
    const rtt = limiter === undefined ? 0 : limiter.now() - entry.started;
    return failure === undefined ? { rtt, failed: false } : { rtt, failed: true, error: failure.error };
  }

  /** Ordered: the entries at the head that are done leave (each frees a slot); the new head's held results go out. */
  private flush(): void {
    const line = this.line!;
    while (line.size > 0 && !this.over) {
      const head = line.peek();
      const held = head.results;
      head.results = undefined;
      if (held !== undefined) for (let i = 0; i < held.length && !this.over; i++) this.destination.next(held[i]!);
      if (!head.done || this.over) return;
      line.shift();
      this.spec.limiter?.release(this.sample(head, head.failure));
      this.freeSlot();
    }
  }

  /** An entry leaves the run's collections (it failed, and the stream errors with it). */
  private forget(entry: Entry<T, R>): void {
    entry.done = true;
    entry.unsubscribe();
    if (this.line === undefined) this.leave(entry);
  }

  /** One slot is free: one more credit upstream (unless upstream is done). */
  private freeSlot(): void {
    if (this.upstreamDone || this.over) return;
    if (this.spec.limiter !== undefined) this.topUp();
    else if (this.spec.concurrency !== Infinity) this.replenish(1);
  }

  private replenish(n: number): void {
    grant(this.link, n);
    this.target?.request(n);
  }

  /**
   * With a limiter: keep one permit-backed credit on offer while upstream is active (a value arriving on it takes
   * the next permit at once, so a ready producer reaches the limit in one go, and an idle one holds a single permit).
   */
  private topUp(): void {
    if (this.over || this.upstreamDone) return;
    if (this.link.credit === 0 && this.spec.limiter!.tryAcquire()) this.replenish(1);
  }

  private upstreamComplete(): void {
    this.upstreamDone = true;
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (this.upstreamDone && this.active === 0 && !this.over && (this.line === undefined || this.line.size === 0)) {
      this.finish();
    }
  }

  private overflow(arrival: Arrival): BufferOverflowError {
    const { operator } = this;
    const limit = this.spec.concurrency ?? this.link.credit;
    const fix =
      'put a queue operator (bufferBounded, dropOnFull, ...) after it, so the drain takes values from the queue';
    const message =
      arrival === EXTRA
        ? `${operator}: received several values for one credit: an operator between the producer and the drain emits ` +
          `several values for one (mergeMap, concatMap or switchMap to several, expand, ...); ${fix}`
        : arrival === LATE
          ? `${operator}: received a value outside its producer's emission: an operator between them delays values ` +
            `(delay, observeOn, debounceTime, auditTime, bufferTime, ...), merges in another source (merge, ` +
            `combineLatest, ...) or adds values after the producer ended (endWith, concatWith, ...); ${fix}`
          : arrival === ENDED
            ? `${operator}: received a value as its producer ended, with no credit left (concurrency ${limit}): an ` +
              'operator between them adds values at the end (endWith, concatWith, defaultIfEmpty, catchError, ' +
              'repeat or ' +
              `retry into a source that does not obey demand, ...); ${fix}`
            : `${operator}: received a value it did not request (concurrency ${limit}): ` +
              'nothing upstream obeys demand. ' +
              'Put a queue operator (dropOnFull, bufferBounded, ...) or pull() in front of it; only one-to-one ' +
              'operators may stand between them (a producer resubscribed later, e.g. by retry with a delay between ' +
              'producer and drain, is not linked either)';
    return new BufferOverflowError(message, limit);
  }

  /** onError 'stop': the values in flight beside the failing one are reported 'cancelled' and their work stopped. */
  private cancelAll(): void {
    this.releaseEntries((value) => {
      const error = this.quietly(value, 'cancelled', false);
      if (this.thrownWhileFailing === undefined) this.thrownWhileFailing = error;
    });
  }

  /** Every entry still held leaves: its work is stopped, its permit returned, its value visited (oldest first). */
  private releaseEntries(visit: (value: T) => void): void {
    const entries: Entry<T, R>[] = [];
    if (this.line !== undefined) this.line.clear((entry) => entries.push(entry));
    for (let entry = this.first; entry !== undefined; entry = entry.after) entries.push(entry);
    this.first = this.last = undefined;
    for (const entry of entries) {
      entry.before = entry.after = undefined;
      if (entry.done) {
        // Ordered, over but waiting behind an earlier value: its results never went out, so its value is reported
        // (unless its failure was, with onError 'continue'). Forgotten ones were reported with the stream's error.
        if (!entry.waiting) continue;
        entry.waiting = false;
        this.spec.limiter?.release();
        if (entry.failure === undefined) visit(entry.value);
        continue;
      }
      entry.done = true;
      entry.unsubscribe();
      this.spec.limiter?.release();
      visit(entry.value);
    }
  }

  protected release(visit: (value: T) => void): void {
    this.releaseEntries(visit);
  }

  protected ended(): void {
    this.stopAvailable?.();
    this.stopAvailable = undefined;
    const limiter = this.spec.limiter;
    if (limiter !== undefined) {
      // permits that backed credit no project used
      for (let n = this.link.credit; n > 0; n--) limiter.release();
      this.link.credit = 0;
    }
  }
}
