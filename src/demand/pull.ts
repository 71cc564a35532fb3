import { Observable } from 'rxjs';
import type { Subscriber } from 'rxjs';
import { describe } from '../internal/format.js';
import { demandInput, fail } from '../internal/options.js';
import type { DemandInput } from '../types.js';
import { Producer } from './producer.js';

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
 * An array's end is known without reading past it: `pull(['a', 'b', 'c', 'd'], demand)` with the same demand gives
 * `--a----(bc)---(d|)` (completion needs no credit, as in Reactive Streams and RxJava's `fromArray`). Any other
 * iterator is asked for its next step only with credit, since that runs the producer's code.
 *
 * ## Example
 * ```ts
 * import { filter } from 'rxjs';
 * import { drain, pull } from 'rxjs-backpressure';
 *
 * async function* lines() { for (let i = 0; ; i++) yield `line ${i}`; } // infinite, and that is fine
 * pull(lines())
 *   .pipe(
 *     filter((line) => !line.endsWith('7')),
 *     drain((line) => writeSlowly(line), { concurrency: 2 }), // the generator is read only as fast as this
 *   )
 *   .subscribe();
 * ```
 *
 * @param input an AsyncIterable (async generator, Node Readable), an Iterable or a WHATWG ReadableStream
 * @param demand the consumer's credits: a {@link Demand} or any ObservableInput of positive integers / Infinity;
 *   default: the credit of the consumer it is linked to
 * @see {@link drain} the consumer it links to
 * @see {@link Demand}
 * @see {@link bufferBounded} with `upstream` to put a bounded buffer between a pull source and its consumer
 */
export function pull<T>(
  input: AsyncIterable<T> | Iterable<T> | ReadableStream<T>,
  demand?: DemandInput,
): Observable<T> {
  const kind = isReadableStream<T>(input)
    ? 'stream'
    : input != null && typeof (input as AsyncIterable<T>)[Symbol.asyncIterator] === 'function'
      ? 'async'
      : input != null && typeof (input as Iterable<T>)[Symbol.iterator] === 'function'
        ? 'sync'
        : fail('pull', 'input', 'an AsyncIterable, an Iterable or a ReadableStream', input, 'type');
  if (demand !== undefined) demandInput('pull', 'demand', demand);

  return new Observable<T>((subscriber) => {
    const source: Pull<T> =
      kind === 'sync'
        ? new SyncPull<T>(
            (input as Iterable<T>)[Symbol.iterator](),
            subscriber,
            demand,
            Array.isArray(input) ? input : undefined,
          )
        : new AsyncPull<T>(
            kind === 'async'
              ? iteratorReader((input as AsyncIterable<T>)[Symbol.asyncIterator]())
              : streamReader((input as ReadableLike<T>).getReader()),
            subscriber,
            demand,
          );
    source.start(demand);
    return () => source.cancel();
  });
}

/** What both kinds of pull share: the producer's credit, and ending. */
abstract class Pull<T> extends Producer<T> {
  protected finished = false;

  constructor(subscriber: Subscriber<T>, demand: DemandInput | undefined) {
    super('pull', subscriber, demand);
  }

  start(demand: DemandInput | undefined): void {
    this.listen('pull', demand, (error) => this.end(error));
    this.pump();
  }

  protected credited(): void {
    this.pump();
  }

  /** Reads (and emits) while credit is outstanding. */
  protected abstract pump(): void;
  /** Stops the producer: the iterator's return(), the reader's cancel(). */
  protected abstract close(): void;

  /** Ends the stream: completes, or errors with `error`, once. */
  protected end(...error: [] | [unknown]): void {
    if (this.finished) return;
    this.finished = true;
    if (error.length === 0) this.signalEnd(() => this.subscriber.complete());
    else {
      this.close();
      this.signalEnd(() => this.subscriber.error(error[0]));
    }
  }

  /** The subscriber left (or the stream ended): release the link and the producer. */
  cancel(): void {
    this.letGo();
    if (this.finished) return;
    this.finished = true;
    this.close();
  }
}

function notAnObject(step: unknown): TypeError {
  return new TypeError(`pull: the iterator's next() must return an object, got ${describe(step)}`);
}

class SyncPull<T> extends Pull<T> {
  private pumping = false;
  /** Elements read so far (compared with an array input's length). */
  private read = 0;

  constructor(
    private readonly iterator: Iterator<T>,
    subscriber: Subscriber<T>,
    demand: DemandInput | undefined,
    /** The input, when it is an array: its end is known without reading past it, so it completes with no credit. */
    private readonly array: readonly T[] | undefined,
  ) {
    super(subscriber, demand);
  }

  /** One element per credit, in a trampolined loop (a request() inside next adds credit to the running loop). */
  protected pump(): void {
    if (this.pumping || this.finished) return;
    this.pumping = true;
    const { credit, iterator, subscriber } = this;
    try {
      while (!this.finished && !subscriber.closed) {
        // An array's end is known without a read (its length, as it is now): complete without waiting for credit, as
        // Reactive Streams allows and RxJava's fromArray does. Any other iterator is asked only with credit.
        if (this.array !== undefined && this.read >= this.array.length) {
          this.end();
          return;
        }
        if (credit.credit <= 0) return;
        let step: IteratorResult<T>;
        try {
          step = iterator.next();
        } catch (error) {
          this.end(error);
          return;
        }
        if (typeof step !== 'object' || step === null) {
          this.end(notAnObject(step));
          return;
        }
        if (step.done) {
          this.end();
          return;
        }
        this.read++;
        this.emit(step.value);
      }
    } finally {
      this.pumping = false;
    }
  }

  protected close(): void {
    try {
      this.iterator.return?.();
    } catch {
      // the consumer has left; an iterator that fails to close has nobody to tell
    }
  }
}

/** One async element at a time: read() resolves to the next step; close() stops the producer. */
interface AsyncReader<T> {
  read(): PromiseLike<IteratorResult<T>>;
  close(): void;
}

function iteratorReader<T>(iterator: AsyncIterator<T>): AsyncReader<T> {
  return {
    read: () => iterator.next(),
    close: () => {
      // return() on a generator suspended in a pending next() queues behind it; either way it finishes the generator.
      try {
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
      } catch {
        // a return() that throws synchronously: the consumer has left, nobody to tell
      }
    },
  };
}

function streamReader<T>(reader: Reader<T>): AsyncReader<T> {
  return {
    read: () => reader.read() as Promise<IteratorResult<T>>,
    close: () => {
      try {
        void Promise.resolve(reader.cancel()).catch(() => undefined);
      } catch {
        // a cancel() that throws synchronously: the consumer has left, nobody to tell
      }
    },
  };
}

/**
 * An asynchronous input, read one element at a time: a read starts only while credit is outstanding and none is
 * pending, and each result starts the next.
 */
class AsyncPull<T> extends Pull<T> {
  private reading = false;
  private readonly onStep = (step: IteratorResult<T>): void => {
    this.reading = false;
    if (this.finished) return;
    if (typeof step !== 'object' || step === null) {
      this.end(notAnObject(step));
      return;
    }
    if (step.done) {
      this.end();
      return;
    }
    this.emit(step.value);
    this.pump();
  };
  private readonly onError = (error: unknown): void => {
    this.reading = false;
    this.end(error);
  };

  constructor(
    private readonly reader: AsyncReader<T>,
    subscriber: Subscriber<T>,
    demand: DemandInput | undefined,
  ) {
    super(subscriber, demand);
  }

  protected pump(): void {
    if (this.reading || this.finished || this.credit.credit <= 0) return;
    this.reading = true;
    let pending: PromiseLike<IteratorResult<T>>;
    try {
      pending = this.reader.read();
    } catch (error) {
      this.reading = false;
      this.end(error);
      return;
    }
    if (pending instanceof Promise) pending.then(this.onStep, this.onError);
    else Promise.resolve(pending).then(this.onStep, this.onError);
  }

  protected close(): void {
    this.reader.close();
  }
}
