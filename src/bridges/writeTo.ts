import { Observable, asyncScheduler } from 'rxjs';
import type { OperatorFunction, Subscriber } from 'rxjs';
import { ENDED, EXTRA, LATE, PAID, UNLINKED, accept, createLink, grant, offer } from '../demand/link.js';
import type { Arrival, Link } from '../demand/link.js';
import { BufferOverflowError } from '../errors.js';
import { Ledger } from '../internal/ledger.js';
import { boolean, fail, settings, withDefault } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import { SourceSubscriber } from '../internal/subscriber.js';

/**
 * What {@link writeTo} needs of a Node `Writable` (duck-typed, so the main entry imports nothing from `node:stream`):
 * `write` with a callback, returning false once its buffer is full; `once('drain')`; `end` with a callback.
 */
export interface WritableLike<T> {
  write(value: T, cb?: (error?: Error | null) => void): boolean;
  once(event: 'drain', fn: () => void): unknown;
  end(cb?: () => void): unknown;
}

/** Options of {@link writeTo}. */
export interface WriteToOptions {
  /**
   * End the sink when the source completes (Node `end()`, WHATWG `writer.close()`), and complete once it has
   * finished. Default true. With false the sink is left open, and the stream completes once every write has called
   * back.
   */
  end?: boolean | undefined;
}

const WRITE_TO = { end: withDefault(boolean, true) } satisfies Schema<WriteToOptions>;

/**
 * Writes an Observable into a Node `Writable` or a WHATWG `WritableStream`, one value at a time, taking the next value
 * only when the sink has room.
 *
 * A sink that links like a {@link drain}: at subscription it links to the nearest demand-aware producer upstream (a
 * {@link pull}, a queue operator without `demand`) and requests one value while the sink has room; after each write it
 * requests the next only once the sink has room again (Node: `write()` returned true, or `'drain'` fired; WHATWG:
 * `writer.desiredSize > 0`, or `writer.ready`). So `pull(file).pipe(map(transform), writeTo(socket))` is a lossless
 * copy at the socket's pace, holding no more than the socket's `highWaterMark`. It emits nothing; it completes once
 * the source has completed and the sink has finished (`end: false`: once every write has called back, the sink left
 * open), and errors with the sink's error when a write, `end` or the sink fails (a Node Writable that closes before
 * it has finished errors it too, instead of stalling it).
 *
 * A source that ignores demand (a `Subject`, `from(array)`) may send values only while the sink has room: the first
 * value sent when it has none errors the stream with `BufferOverflowError` naming the fix (read it through `pull`, or
 * put a queue operator in front). Only one-to-one operators may stand between the producer and `writeTo`, as before
 * a drain. An error upstream or an unsubscription stops writing and leaves the sink as it is: not ended (its reader
 * can tell the copy is incomplete), a WritableStream's lock released.
 *
 * ```
 * source:   pull(a, b, c, d)                           (read only when the sink has room)
 * sink:     a Writable with highWaterMark 2 that takes 3 frames per value
 * write():  a-b-----c--d--|                            a and b fill it: write(b) is false; c after 'drain', ...
 * output:   ----------------|                          nothing; completes when end()'s callback fires
 * ```
 *
 * ## Example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * import { map } from 'rxjs';
 * import { pull, writeTo } from 'rxjs-backpressure';
 *
 * async function* records() {
 *   for (let id = 0; id < 1_000_000; id++) yield { id, at: new Date().toISOString() };
 * }
 * // A million records, never more than the file stream's highWaterMark in memory.
 * pull(records())
 *   .pipe(
 *     map((record) => `${JSON.stringify(record)}\n`),
 *     writeTo(createWriteStream('records.ndjson')),
 *   )
 *   .subscribe({ complete: () => console.log('written'), error: (e) => console.error('copy failed', e) });
 * ```
 *
 * @param sink a Node Writable (or anything {@link WritableLike}) or a WHATWG WritableStream
 * @param options `end` (default true)
 * @see {@link pull} the source to pair it with
 * @see {@link toReadableStream} the other direction
 */
export function writeTo<T>(
  sink: WritableStream<T> | WritableLike<T>,
  options?: WriteToOptions,
): OperatorFunction<T, never> {
  const { end } = settings('writeTo', WRITE_TO, options ?? {});
  const kind = sinkKind(sink);
  return (source) =>
    new Observable<never>((subscriber) => {
      const run = new WriteRun<T>(end, subscriber);
      run.start(
        source,
        kind === 'stream' ? streamPort(sink as WritableStream<T>, run) : nodePort(sink as Evented<T>, run),
      );
      return () => run.teardown();
    });
}

function sinkKind(sink: unknown): 'stream' | 'node' {
  const s = sink as Record<string, unknown> | null;
  if (typeof s === 'object' && s !== null) {
    if (typeof s['getWriter'] === 'function') return 'stream';
    if (typeof s['write'] === 'function' && typeof s['once'] === 'function' && typeof s['end'] === 'function') {
      return 'node';
    }
  }
  return fail('writeTo', 'sink', 'a WritableStream or a Writable (write, once, end)', sink, 'type');
}

/** What a sink tells the run. */
interface SinkEvents {
  /** The sink may take one more value. */
  room(): void;
  /** A write has called back (with its error, if it failed). */
  written(error?: unknown): void;
  /** The sink has finished after end / close (or failed to). */
  finished(error?: unknown): void;
  /** The sink failed. */
  failed(error: unknown): void;
}

/** One sink, as the run drives it. */
interface SinkPort<T> {
  /** Starts: tells `room()` when the sink may take the first value. */
  open(): void;
  write(value: T): void;
  /** Ends the sink (end: true). */
  finish(): void;
  /** The run is over: listeners removed, lock released. `sinkFailed`: it ended with the sink's error. */
  close(sinkFailed: boolean): void;
}

/** A Node Writable as writeTo may use it beyond WritableLike, when it has these (an EventEmitter). */
interface Evented<T> extends WritableLike<T> {
  on?(event: string, fn: (...args: any[]) => void): unknown;
  removeListener?(event: string, fn: (...args: any[]) => void): unknown;
  writableNeedDrain?: boolean;
  writableFinished?: boolean;
}

const ignore = (): void => undefined;

function nodePort<T>(sink: Evented<T>, events: SinkEvents): SinkPort<T> {
  let draining = false;
  let ending = false;
  const onDrain = (): void => {
    draining = false;
    events.room();
  };
  const onWritten = (error?: Error | null): void => events.written(error ?? undefined);
  const onError = (error: unknown): void => events.failed(error);
  const onClose = (): void => {
    if (!(ending && sink.writableFinished === true)) {
      events.failed(new Error('writeTo: the sink closed before it had finished'));
    }
  };
  const evented = typeof sink.on === 'function' && typeof sink.removeListener === 'function';
  const awaitDrain = (): void => {
    draining = true;
    sink.once('drain', onDrain);
  };
  return {
    open() {
      if (evented) {
        // a Writable with nobody listening to 'error' would crash the process; a closed one would stall the copy
        sink.on!('error', onError);
        sink.on!('close', onClose);
      }
      if (sink.writableNeedDrain === true) awaitDrain();
      else events.room();
    },
    write(value) {
      if (sink.write(value, onWritten)) events.room();
      else awaitDrain();
    },
    finish() {
      ending = true;
      // Node calls end's callback once the sink has finished ('finish'), or with its error
      (sink.end as (cb: (error?: Error | null) => void) => unknown)((error) => events.finished(error ?? undefined));
    },
    close(sinkFailed) {
      if (!evented) return;
      sink.removeListener!('error', onError);
      sink.removeListener!('close', onClose);
      if (draining) sink.removeListener!('drain', onDrain);
      // Node emits 'error' after the failed write's callback: the subscriber has that error already, and an 'error'
      // nobody listens to would crash the process
      if (sinkFailed) sink.on!('error', ignore);
    },
  };
}

function streamPort<T>(sink: WritableStream<T>, events: SinkEvents): SinkPort<T> {
  let writer: WritableStreamDefaultWriter<T> | undefined;
  const whenReady = (): void => {
    const size = writer!.desiredSize;
    if (size !== null && size > 0) events.room();
    else
      writer!.ready.then(
        () => events.room(),
        (error: unknown) => events.failed(error),
      );
  };
  return {
    open() {
      writer = sink.getWriter();
      whenReady();
    },
    write(value) {
      writer!.write(value).then(
        () => events.written(),
        (error: unknown) => events.written(error),
      );
      whenReady();
    },
    finish() {
      writer!.close().then(
        () => events.finished(),
        (error: unknown) => events.finished(error),
      );
    },
    close() {
      try {
        writer?.releaseLock();
      } catch {
        // released already
      }
    },
  };
}

/** One subscription of writeTo. */
class WriteRun<T> extends Ledger<T, never> implements SinkEvents {
  private readonly link: Link = createLink('writeTo', 0);
  private port: SinkPort<T> | undefined;
  /** Writes that have not called back yet. */
  private writes = 0;
  private sourceDone = false;
  /** The run failed with the sink's own error (a write, end or the sink failed). */
  private sinkFailed = false;

  constructor(
    private readonly end: boolean,
    destination: Subscriber<never>,
  ) {
    super('writeTo', destination, undefined, asyncScheduler, undefined);
  }

  start(source: Observable<T>, port: SinkPort<T>): void {
    this.port = port;
    // the sink's room first: a source that emits as it is subscribed finds the credit there
    try {
      port.open();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.over) return;
    const upstream = new SourceSubscriber<T>(this.destination, {
      next: (value) => this.arrive(value),
      error: (error) => this.fail(error),
      complete: () => this.sourceComplete(),
    });
    offer(this.link, () => source.subscribe(upstream));
  }

  private arrive(value: T): void {
    if (this.over) return;
    const arrival = accept(this.link);
    if (arrival !== PAID && arrival !== UNLINKED) {
      this.fail(overflow(arrival));
      return;
    }
    this.writes++;
    try {
      this.port!.write(value);
    } catch (error) {
      this.failed(error);
    }
  }

  room(): void {
    if (this.over || this.sourceDone) return;
    grant(this.link, 1);
  }

  written(error?: unknown): void {
    if (this.over) return;
    this.writes--;
    if (error !== undefined) this.failed(error);
    else if (this.sourceDone && !this.end && this.writes === 0) this.finish();
  }

  finished(error?: unknown): void {
    if (this.over) return;
    if (error !== undefined) this.failed(error);
    else this.finish();
  }

  failed(error: unknown): void {
    if (this.over) return;
    this.sinkFailed = true;
    this.fail(error);
  }

  private sourceComplete(): void {
    this.sourceDone = true;
    if (this.end) {
      try {
        this.port!.finish();
      } catch (error) {
        this.fail(error);
      }
    } else if (this.writes === 0) this.finish();
  }

  protected release(): void {
    // nothing is held: every value taken has been handed to the sink
  }

  protected ended(): void {
    this.port?.close(this.sinkFailed);
  }
}

function overflow(arrival: Arrival): BufferOverflowError {
  const fix = 'read the source through pull(), or put a queue operator (bufferBounded, dropOnFull, ...) in front';
  const message =
    arrival === EXTRA
      ? 'writeTo: received several values for one credit: an operator between the producer and writeTo emits several ' +
        `values for one (mergeMap to several, expand, ...); ${fix} after it`
      : arrival === LATE
        ? 'writeTo: received a value outside its producer emission: an operator between them delays values (delay, ' +
          `observeOn, debounceTime, ...), merges in another source or adds values after it ended (endWith, ...); ` +
          `${fix} after it`
        : arrival === ENDED
          ? 'writeTo: received a value as its producer ended, while the sink had no room: an operator between them ' +
            `adds values at the end (endWith, concatWith, defaultIfEmpty, ...); ${fix} after it`
          : 'writeTo: received a value while the sink had no room: the source does not obey demand (a Subject, ' +
            `from(array), ...); ${fix}`;
  return new BufferOverflowError(message, 1);
}
