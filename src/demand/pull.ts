import { Observable } from 'rxjs';
import type { Subscriber } from 'rxjs';
import { addCredit, subscribeCredits } from '../internal/credit.js';
import { demandInput, fail } from '../internal/options.js';
import type { DemandInput } from '../types.js';

type Reader<T> = {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: T }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
};
type ReadableLike<T> = { getReader(): Reader<T> };

function isReadableStream<T>(input: unknown): input is ReadableLike<T> {
  return typeof input === 'object' && input !== null && typeof (input as ReadableLike<T>).getReader === 'function';
}

/**
 * A source that reads its input only while the consumer has credit: the "blocking" strategy.
 *
 * The next element is read only while credit is outstanding, so the producer itself is paused: a generator stays
 * suspended at `yield`, a Node `Readable` (read through its async iterator) stops being read and so stops calling
 * `_read` once its buffer is full, a `ReadableStream` reader is not called. Nothing is dropped; the producer is slowed
 * to the consumer's pace. Unsubscribing calls the iterator's `return()`, or cancels the stream reader.
 *
 * A synchronous iterable is read synchronously, one element per credit, in a trampolined loop (a `request()` inside
 * `next` adds credit to the running loop). An asynchronous input is read one element at a time: at most one `next()` /
 * `read()` is pending, and only while a credit is reserved for its result.
 *
 * ```
 * input:    generator of a, b, c, d
 * demand:   --1----2------1--
 * pull(input, demand)
 * output:   --a----(bc)---d--  (then | once the generator is done and asked for one more)
 * ```
 *
 * ## Example
 * ```ts
 * import { Demand, pull } from 'rxjs-backpressure';
 *
 * async function* lines() { for (let i = 0; ; i++) yield `line ${i}`; } // infinite, and that is fine
 * const demand = new Demand();
 * pull(lines(), demand)
 *   .pipe(demand.drain((line) => writeSlowly(line), { concurrency: 2 }))
 *   .subscribe();
 * ```
 *
 * @param input an AsyncIterable (async generator, Node Readable), an Iterable or a WHATWG ReadableStream
 * @param demand the consumer's credits: a {@link Demand} or any ObservableInput of positive integers / Infinity
 * @see {@link Demand}
 * @see {@link bufferBounded} with `upstream` to put a bounded buffer between a pull source and its consumer
 */
export function pull<T>(input: AsyncIterable<T> | Iterable<T> | ReadableStream<T>, demand: DemandInput): Observable<T> {
  const kind = isReadableStream<T>(input)
    ? 'stream'
    : input != null && typeof (input as AsyncIterable<T>)[Symbol.asyncIterator] === 'function'
      ? 'async'
      : input != null && typeof (input as Iterable<T>)[Symbol.iterator] === 'function'
        ? 'sync'
        : fail('pull', 'input', 'an AsyncIterable, an Iterable or a ReadableStream', input, 'type');
  demandInput('pull', 'demand', demand);

  return new Observable<T>((subscriber) => {
    const source =
      kind === 'sync'
        ? new SyncPull<T>((input as Iterable<T>)[Symbol.iterator](), subscriber)
        : kind === 'async'
          ? new AsyncPull<T>(iteratorReader((input as AsyncIterable<T>)[Symbol.asyncIterator]()), subscriber)
          : new AsyncPull<T>(streamReader((input as ReadableLike<T>).getReader()), subscriber);
    const credits = subscribeCredits(
      'pull',
      demand,
      (n) => source.addCredit(n),
      (error) => source.fail(error),
    );
    return () => {
      credits.unsubscribe();
      source.cancel();
    };
  });
}

class SyncPull<T> {
  private credit = 0;
  private pumping = false;
  private finished = false;

  constructor(
    private readonly iterator: Iterator<T>,
    private readonly subscriber: Subscriber<T>,
  ) {}

  addCredit(n: number): void {
    this.credit = addCredit(this.credit, n);
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.finished) return;
    this.pumping = true;
    try {
      while (this.credit > 0 && !this.finished && !this.subscriber.closed) {
        let step: IteratorResult<T>;
        try {
          step = this.iterator.next();
        } catch (error) {
          this.finished = true;
          this.subscriber.error(error);
          return;
        }
        if (step.done) {
          this.finished = true;
          this.subscriber.complete();
          return;
        }
        if (this.credit !== Infinity) this.credit--;
        this.subscriber.next(step.value);
      }
    } finally {
      this.pumping = false;
    }
  }

  fail(error: unknown): void {
    this.cancel();
    this.subscriber.error(error);
  }

  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.iterator.return?.();
    } catch {
      // the consumer has left; an iterator that fails to close has nobody to tell
    }
  }
}

/** One async element at a time: read() resolves to the next step; close() stops the producer. */
interface AsyncReader<T> {
  read(): Promise<IteratorResult<T>>;
  close(): void;
}

function iteratorReader<T>(iterator: AsyncIterator<T>): AsyncReader<T> {
  return {
    read: () => iterator.next(),
    close: () => {
      // return() on a generator suspended in a pending next() queues behind it; either way it finishes the generator.
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
    },
  };
}

function streamReader<T>(reader: Reader<T>): AsyncReader<T> {
  return {
    read: () => reader.read() as Promise<IteratorResult<T>>,
    close: () => {
      void reader.cancel().catch(() => undefined);
    },
  };
}

class AsyncPull<T> {
  private credit = 0;
  private reading = false;
  private finished = false;

  constructor(
    private readonly reader: AsyncReader<T>,
    private readonly subscriber: Subscriber<T>,
  ) {}

  addCredit(n: number): void {
    this.credit = addCredit(this.credit, n);
    this.readNext();
  }

  /** Starts one read if credit is outstanding and none is pending; each result starts the next. */
  private readNext(): void {
    if (this.reading || this.finished || this.credit === 0) return;
    this.reading = true;
    if (this.credit !== Infinity) this.credit--;
    let pending: Promise<IteratorResult<T>>;
    try {
      pending = this.reader.read();
    } catch (error) {
      this.end(error);
      return;
    }
    Promise.resolve(pending).then(
      (step) => {
        this.reading = false;
        if (this.finished) return;
        if (step.done) {
          this.finished = true;
          this.subscriber.complete();
          return;
        }
        this.subscriber.next(step.value);
        this.readNext();
      },
      (error: unknown) => {
        this.reading = false;
        this.end(error);
      },
    );
  }

  private end(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.subscriber.error(error);
  }

  fail(error: unknown): void {
    this.cancel();
    this.subscriber.error(error);
  }

  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    this.reader.close();
  }
}
