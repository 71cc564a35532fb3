import { Observable, asyncScheduler } from 'rxjs';
import type { Subscriber, Subscription } from 'rxjs';
import { arrive, createLink, grant, offer } from '../demand/link.js';
import type { Link } from '../demand/link.js';
import { BufferOverflowError } from '../errors.js';
import { Ledger } from '../internal/ledger.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import { RingBuffer } from '../queue/RingBuffer.js';
import type { DropHandler } from '../types.js';
import type { BridgeSettings } from './options.js';

/** A read the reader is waiting on (a pending `next()`, a pending `pull()` of a ReadableStream). */
interface Waiting<T> {
  resolve(step: IteratorResult<T>): void;
  reject(error: unknown): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const NOTHING: unique symbol = Symbol('nothing') as never;

/**
 * The reader's side of an Observable, shared by {@link toAsyncIterable} and {@link toReadableStream}: reads one value
 * at a time, subscribes at the first read, and leaves on `leave()` (return(), cancel()).
 */
export class ReadAhead<T> {
  private run: ReadRun<T> | undefined;
  private subscription: Subscription | undefined;
  private left = false;

  constructor(
    private readonly operator: string,
    private readonly source: Observable<T>,
    private readonly settings: BridgeSettings,
  ) {}

  /** The next value, or the end. Calls made before the previous one settled are answered in order. */
  read(): Promise<IteratorResult<T>> {
    if (this.left) return Promise.resolve(DONE);
    if (this.run === undefined) return this.open();
    return this.run.read();
  }

  /**
   * The reader has gone: the source is unsubscribed (a generator's `finally` runs), values held are reported
   * `'cancelled'`, waiting reads end. Throws what an `onDrop` threw while reporting.
   */
  leave(): void {
    if (this.left) return;
    this.left = true;
    const { run, subscription } = this;
    if (run === undefined) return;
    try {
      // the source first, so nothing arrives while the values held are reported
      run.stop();
      run.teardown();
    } finally {
      subscription?.unsubscribe();
    }
  }

  /** Subscribes for the first read, which waits before the source is subscribed (a synchronous source answers it). */
  private open(): Promise<IteratorResult<T>> {
    let first: Promise<IteratorResult<T>> | undefined;
    this.subscription = new Observable<never>((destination) => {
      const run = new ReadRun<T>(this.operator, this.settings, destination);
      this.run = run;
      first = run.read();
      run.start(this.source);
      return () => run.teardown();
    }).subscribe({ error: () => undefined }); // the reader learns the error from read()
    return first!;
  }
}

/**
 * One subscription of a reading bridge. The reader's pace is the credit: `capacity` when the source is subscribed,
 * then one per read, on a link a demand-aware producer upstream claims (a `pull()`, a queue operator), so it never runs
 * more than `capacity` values ahead. A source that ignores the link fills at most `capacity` values, then `overflow`
 * applies. An upstream end waits behind the values held before it.
 */
class ReadRun<T> extends Ledger<T, never> {
  private readonly link: Link;
  private readonly held = new RingBuffer<T>();
  private readonly waiting = new RingBuffer<Waiting<T>>();
  private upstream: SourceSubscriber<T> | undefined;
  /** How the source ended, while values it sent before are still held (state 'closing'). */
  private tail: { error: unknown } | 'complete' | undefined;
  /** The error the reader has not been told of yet (thrown from the next read). */
  private untold: unknown = NOTHING;

  constructor(
    operator: string,
    private readonly settings: BridgeSettings,
    destination: Subscriber<never>,
  ) {
    super(operator, destination, settings.onDrop as DropHandler<T> | undefined, asyncScheduler, undefined);
    this.link = createLink(operator, settings.capacity);
  }

  start(source: Observable<T>): void {
    const upstream = new SourceSubscriber<T>(this.destination, {
      next: (value) => this.arrive(value),
      error: (error) => this.upstreamEnded({ error }),
      complete: () => this.upstreamEnded('complete'),
    });
    this.upstream = upstream;
    offer(this.link, () => source.subscribe(upstream));
  }

  /** Unsubscribes the source only (the reader is leaving; the values held are reported next). */
  stop(): void {
    this.upstream?.unsubscribe();
  }

  read(): Promise<IteratorResult<T>> {
    if (this.held.size > 0) {
      const value = this.held.shift();
      this.credit();
      return Promise.resolve({ done: false, value });
    }
    if (this.state === 'closing') this.settle();
    if (this.over) {
      const error = this.untold;
      if (error === NOTHING) return Promise.resolve(DONE);
      this.untold = NOTHING;
      return Promise.reject(error);
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.credit(); // a producer that emits synchronously answers this read before the promise is returned
    });
  }

  /** One read is one credit, while the source runs. */
  private credit(): void {
    if (this.state === 'open') grant(this.link, 1);
  }

  private arrive(value: T): void {
    arrive(this.link);
    if (this.state !== 'open') {
      this.late(value);
      return;
    }
    if (this.waiting.size > 0) {
      this.waiting.shift().resolve({ done: false, value });
      return;
    }
    if (this.held.size < this.settings.capacity) {
      this.held.push(value);
      return;
    }
    this.overflow(value);
  }

  /** A value from a source that ignores demand found `capacity` values held. */
  private overflow(value: T): void {
    switch (this.settings.overflow) {
      case 'drop-incoming':
        this.drop(value, 'overflow', false);
        return;
      case 'drop-oldest':
        this.drop(this.held.shift(), 'evicted', true);
        if (this.over)
          this.late(value); // onDrop threw and errored the stream
        else this.held.push(value);
        return;
      case 'error': {
        this.drop(value, 'overflow', false);
        if (this.over) return;
        const { capacity } = this.settings;
        this.upstream!.unsubscribe();
        this.upstreamEnded({
          error: new BufferOverflowError(
            `${this.operator}: ${capacity} values already held ahead of the reader (capacity ${capacity}) and the ` +
              'source sent another: it does not obey demand. Read it through pull() or a queue operator ' +
              "(dropOnFull, ...), or choose overflow 'drop-oldest' / 'drop-incoming'",
            capacity,
          ),
        });
      }
    }
  }

  private upstreamEnded(tail: { error: unknown } | 'complete'): void {
    if (this.state !== 'open') return;
    this.tail = tail;
    this.state = 'closing';
    if (this.held.size === 0) this.settle();
  }

  /** Nothing is held and the source has ended: the run ends as the source did, and waiting reads learn it. */
  private settle(): void {
    const tail = this.tail!;
    if (tail === 'complete') this.finish();
    else this.fail(tail.error);
  }

  /** Errors the run (the source's error, after the values held; or an onDrop that threw, at once). */
  override fail(error: unknown, ...arrival: [] | [T]): void {
    if (!this.over) this.untold = error;
    super.fail(error, ...arrival);
  }

  protected release(visit: (value: T) => void): void {
    this.held.clear(visit);
  }

  /** The run has ended: reads still waiting are answered, the first with the error if there is one. */
  protected ended(): void {
    const { waiting } = this;
    while (waiting.size > 0) {
      const read = waiting.shift();
      const error = this.untold;
      if (error === NOTHING) read.resolve(DONE);
      else {
        this.untold = NOTHING;
        read.reject(error);
      }
    }
  }
}
