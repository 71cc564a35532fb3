import { Observable } from 'rxjs';
import type { Subscriber, TeardownLogic } from 'rxjs';
import { reportUnhandled, reporter } from '../internal/ledger.js';
import { oneOf, positiveInteger, settings, withDefault } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import type { QueueRecorder } from '../metrics/port.js';
import { openQueue } from '../queue/engine.js';
import { DROP_POLICIES } from '../queue/overflow.js';
import type { QueueInlet, QueueSpec } from '../queue/engine.js';
import { QUEUE_SCHEMA } from '../queue/options.js';
import type { QueueOptions } from '../queue/options.js';
import { RingBuffer } from '../queue/RingBuffer.js';
import type { DropReason, Dropped } from '../types.js';

/** What {@link BoundedSubject} does with a value offered when `capacity` values are queued. */
export type BoundedSubjectOverflow = 'drop-incoming' | 'drop-oldest' | 'drop-newest';

/** Options of {@link BoundedSubject}. */
export interface BoundedSubjectOptions<T> extends QueueOptions<T> {
  /** Most values queued while the subscriber has no credit: a positive integer. */
  capacity: number;
  /**
   * A value offered at a full queue: `'drop-incoming'` (default) drops it (reason `'overflow'`, `offer()` answers
   * `'dropped'`); `'drop-oldest'` / `'drop-newest'` evict the head / the most recently queued value (reason
   * `'evicted'`) and queue it (`offer()` answers `'queued'`).
   */
  overflow?: BoundedSubjectOverflow | undefined;
}

/**
 * What became of an offered value: `'delivered'` to the subscriber at once; `'queued'` to wait for credit; `'dropped'`
 * (reported to `onDrop`); `'closed'`: the subject is completed or errored, or its subscriber has gone (reported
 * `'cancelled'`).
 */
export type OfferResult = 'delivered' | 'queued' | 'dropped' | 'closed';

const BOUNDED_SUBJECT = {
  capacity: positiveInteger,
  overflow: withDefault(
    oneOf<BoundedSubjectOverflow>(['drop-incoming', 'drop-oldest', 'drop-newest']),
    'drop-incoming',
  ),
  ...QUEUE_SCHEMA,
} satisfies Schema<BoundedSubjectOptions<unknown>>;

/** What the producer has said: nothing final yet, complete(), or error(). */
type Input = { kind: 'open' } | { kind: 'completed' } | { kind: 'errored'; error: unknown };

/**
 * Who receives: nobody yet (values offered meanwhile wait in `early`, up to `capacity`), the one subscriber (through
 * its queue run), or nobody any more.
 */
type Consumer<T> =
  { kind: 'none'; early: RingBuffer<T> } | { kind: 'attached'; inlet: QueueInlet<T> } | { kind: 'gone' };

/**
 * The bounded entry point for push producers (an HTTP handler, a socket callback): a unicast Subject with a bounded
 * queue whose `offer()` tells the producer at once what became of each value, so it can answer 503 instead of
 * queueing.
 *
 * One subscriber: a second (or any after the first has gone) errors with `TypeError`. Values go to it at once while it
 * has credit; otherwise up to `capacity` wait, then `overflow` applies. The credit is its `demand`, or that of the
 * drain it is linked to (`subject.pipe(drain(work, { concurrency: 4 }))` holds 4 in flight and `capacity` queued with
 * no Demand written by hand); with neither, the subscriber has unbounded credit and `offer()` answers `'delivered'`.
 * After `complete()` the queued values still go out as credit arrives, then the subscriber completes; after `error()`
 * they are reported `'error'`. After `complete()` / `error()`, or once the subscriber has gone, `offer()` answers
 * `'closed'` and the value is reported `'cancelled'`: a producer pushing into a pipeline that has died learns it.
 *
 * Values offered before the subscriber arrives wait in the subject, up to `capacity` (the same `overflow` applies), and
 * go to it, in order, when it subscribes; `metrics` count them from then (one dropped meanwhile counts at once).
 * `size` is the number of values queued now, `closed` whether `offer()` answers `'closed'`.
 *
 * ```
 * offer:    -a-b-c-d-e-------f             capacity: 2; complete() at 15
 * answers:  -q-q-x-x-x-------c             q 'queued', x 'dropped' (reason 'overflow'), c 'closed'
 * demand:   ----------1-1-1
 * output:   ----------a-b--|               after complete() the queue is still delivered, then it completes
 * drops:    -----c-d-e-------f             c, d, e 'overflow'; f 'cancelled'
 * ```
 *
 * ## Example
 * ```ts
 * import { createServer } from 'node:http';
 * import { BoundedSubject, drain } from 'rxjs-backpressure';
 *
 * interface Job { reply: (status: number) => void }
 * const jobs = new BoundedSubject<Job>({ capacity: 100, onDrop: ({ value }) => value.reply(503) });
 * jobs
 *   .pipe(drain((job) => work(job).then(() => job.reply(200)), { concurrency: 4, onError: 'continue' }))
 *   .subscribe();
 * createServer((request, response) => {
 *   const reply = (status: number) => response.writeHead(status, { 'Retry-After': '1' }).end();
 *   const answer = jobs.offer({ reply });
 *   if (answer === 'dropped' || answer === 'closed') reply(503); // full, or the pipeline has died: say so at once
 * }).listen(3000);
 * ```
 *
 * @param options `capacity` (required), `overflow`, `demand`, `onDrop`, `metrics`, `scheduler`
 * @see {@link drain} the consumer to pipe it into
 * @see {@link dropOnFull} the same queue as an operator, for a source that is already an Observable
 */
export class BoundedSubject<T> extends Observable<T> {
  /** Most values queued while the subscriber has no credit. */
  readonly capacity: number;
  private readonly overflow: BoundedSubjectOverflow;
  private readonly spec: QueueSpec<T>;
  private readonly report: ((drop: Dropped<T>) => void) | undefined;
  private input: Input = { kind: 'open' };
  private consumer: Consumer<T> = { kind: 'none', early: new RingBuffer<T>() };

  constructor(options: BoundedSubjectOptions<T>) {
    const { capacity, overflow, demand, onDrop, metrics, scheduler } = settings(
      'BoundedSubject',
      BOUNDED_SUBJECT,
      options,
    );
    const self: { subject?: BoundedSubject<T> } = {};
    super((subscriber) => self.subject!.attach(subscriber));
    self.subject = this;
    this.capacity = capacity;
    this.overflow = overflow;
    this.spec = {
      operator: 'BoundedSubject',
      capacity,
      overflow: DROP_POLICIES[overflow],
      demand,
      onDrop: onDrop as QueueSpec<T>['onDrop'],
      recorder: metrics,
      scheduler,
    };
    this.report = reporter(this.spec.onDrop);
  }

  /** Values queued now (waiting for credit, or for the subscriber to arrive). */
  get size(): number {
    const { consumer } = this;
    return consumer.kind === 'attached' ? consumer.inlet.size : consumer.kind === 'none' ? consumer.early.size : 0;
  }

  /** True once `offer()` answers `'closed'`: after complete() / error(), or once the subscriber has gone. */
  get closed(): boolean {
    const { consumer } = this;
    return (
      this.input.kind !== 'open' || consumer.kind === 'gone' || (consumer.kind === 'attached' && consumer.inlet.over)
    );
  }

  /** Offers a value and answers at once what became of it. */
  offer(value: T): OfferResult {
    if (this.closed) {
      this.reportDrop(value, 'cancelled', false);
      return 'closed';
    }
    const { consumer } = this;
    if (consumer.kind === 'attached') return consumer.inlet.arrive(value);
    return this.wait((consumer as { early: RingBuffer<T> }).early, value);
  }

  /** {@link offer} without the answer (the Observer interface). */
  next(value: T): void {
    this.offer(value);
  }

  /** Errors the subscriber; values still queued are reported `'error'`. Later calls are ignored. */
  error(error: unknown): void {
    if (this.input.kind !== 'open') return;
    this.input = { kind: 'errored', error };
    const { consumer } = this;
    if (consumer.kind === 'attached') consumer.inlet.fail(error);
    else if (consumer.kind === 'none') consumer.early.clear((value) => this.reportDrop(value, 'error', false));
  }

  /** No more values: the queued ones still go out as credit arrives, then the subscriber completes. */
  complete(): void {
    if (this.input.kind !== 'open') return;
    this.input = { kind: 'completed' };
    const { consumer } = this;
    if (consumer.kind === 'attached') consumer.inlet.upstreamComplete();
  }

  private get recorder(): QueueRecorder | undefined {
    return this.spec.recorder;
  }

  /** A value offered before the subscriber arrived: held, up to `capacity`, by the same overflow policy. */
  private wait(early: RingBuffer<T>, value: T): OfferResult {
    if (early.size < this.capacity) {
      early.push(value);
      return 'queued';
    }
    switch (this.overflow) {
      case 'drop-oldest':
        this.reportDrop(early.shift(), 'evicted', true);
        break;
      case 'drop-newest':
        this.reportDrop(early.pop(), 'evicted', true);
        break;
      default:
        this.reportDrop(value, 'overflow', true);
        return 'dropped';
    }
    if (this.closed) {
      // onDrop threw, and errored the subject: the arrival is dropped after what was held
      this.reportDrop(value, 'error', false);
      return 'dropped';
    }
    early.push(value);
    return 'queued';
  }

  /**
   * Reports a value dropped outside a queue run (before the subscriber, or after the end), which metrics count as
   * received and dropped. An `onDrop` that throws before the subscriber errors the subject (`live`); after the end
   * there is nobody to tell but rxjs' `onUnhandledError`.
   */
  private reportDrop(value: T, reason: DropReason, live: boolean): void {
    this.recorder?.received();
    this.recorder?.dropped(reason, false);
    if (this.report === undefined) return;
    try {
      this.report({ value, reason, at: this.spec.scheduler.now() });
    } catch (error) {
      if (live) this.error(error);
      else reportUnhandled(error);
    }
  }

  private attach(subscriber: Subscriber<T>): TeardownLogic {
    const { consumer, input } = this;
    if (consumer.kind !== 'none') {
      subscriber.error(
        new TypeError(
          'BoundedSubject: one subscriber only (it is unicast, and has had one); put share() after it to give its ' +
            'values to several',
        ),
      );
      return;
    }
    if (input.kind === 'errored') {
      this.consumer = { kind: 'gone' };
      subscriber.error(input.error);
      return;
    }
    const inlet = openQueue(this.spec, subscriber);
    // values offered before: in order, and ahead of any that the subscriber offers while receiving them
    const { early } = consumer;
    while (early.size > 0 && !inlet.over) inlet.arrive(early.shift());
    early.clear((value) => this.reportDrop(value, 'cancelled', false));
    this.consumer = { kind: 'attached', inlet };
    if (this.input.kind === 'completed') inlet.upstreamComplete();
    else if (this.input.kind === 'errored') inlet.fail(this.input.error);
    return () => {
      this.consumer = { kind: 'gone' };
      inlet.teardown();
    };
  }
}
