import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { DROP_REASONS } from '../types.js';
import type { DropReason } from '../types.js';
import { checkOptions, probability, scheduler as checkScheduler } from '../internal/validate.js';
import { Histogram } from './Histogram.js';

/** Options of {@link QueueMetrics}. */
export interface QueueMetricsOptions {
  /** The clock for queue times and alert evaluation. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/** Plain-JSON view of a {@link QueueMetrics} at one moment. */
export interface QueueMetricsSnapshot {
  at: number;
  depth: number;
  capacity: number;
  enqueued: number;
  dequeued: number;
  dropped: number;
  droppedBy: Record<DropReason, number>;
  /** Queue time in ms at the usual percentiles (2% relative error; `max` is exact). */
  queueTime: { p50: number; p90: number; p99: number; p999: number; max: number };
}

/**
 * Counters, gauges and queue-time percentiles of one or more queue operators.
 *
 * Every value an operator receives counts as enqueued (one delivered at once too, with queue time 0); every emitted
 * value counts as dequeued; every drop counts under its reason. So at any moment
 * `enqueued = dequeued + dropped + depth`. One `QueueMetrics` passed to several operators reports their sum
 * (capacity included, for as long as each is subscribed).
 *
 * ```
 * source:   --a-b-c-d-e--|
 * dropOnFull({ capacity: 2, demand, metrics })
 * metrics:  enqueued 5, dequeued 3, dropped 2 (overflow 2), depth 0
 * ```
 *
 * ## Example
 * ```ts
 * import { QueueMetrics, dropOnFull } from 'rxjs-backpressure';
 *
 * const metrics = new QueueMetrics();
 * events$.pipe(dropOnFull({ capacity: 1000, metrics })).subscribe(handle);
 * setInterval(() => console.log(metrics.snapshot()), 5000);
 * ```
 */
export class QueueMetrics {
  /** The clock of this metrics object. */
  readonly scheduler: SchedulerLike;
  private queued = 0;
  private bound = 0;
  private received = 0;
  private emitted = 0;
  private readonly drops: Record<DropReason, number> = {
    overflow: 0,
    evicted: 0,
    early: 0,
    rate: 0,
    expired: 0,
    error: 0,
    cancelled: 0,
  };
  private droppedTotal = 0;
  private readonly waits = new Histogram();

  constructor(options: QueueMetricsOptions = {}) {
    checkOptions('QueueMetrics', options, ['scheduler']);
    this.scheduler = options.scheduler === undefined ? asyncScheduler : checkScheduler('QueueMetrics', options.scheduler);
  }

  /** Values queued now, across every operator reporting here. */
  get depth(): number {
    return this.queued;
  }

  /** Summed capacity of the operators subscribed now. */
  get capacity(): number {
    return this.bound;
  }

  /** Values received so far. */
  get enqueued(): number {
    return this.received;
  }

  /** Values emitted so far. */
  get dequeued(): number {
    return this.emitted;
  }

  /** Values dropped so far, for every reason. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Values dropped so far for `reason`. */
  droppedBy(reason: DropReason): number {
    const n = this.drops[reason];
    if (n === undefined) throw new TypeError(`QueueMetrics.droppedBy: unknown reason ${String(reason)}`);
    return n;
  }

  /**
   * Queue time in ms at `percentile` (a fraction in [0, 1], e.g. 0.99) over every value dequeued so far, from a
   * fixed-memory histogram with at most 2% relative error; 0 before any value was dequeued.
   */
  queueTime(percentile: number): number {
    probability('QueueMetrics.queueTime', 'percentile', percentile);
    return this.waits.percentile(percentile);
  }

  /** Plain JSON of every counter, gauge and the usual percentiles. */
  snapshot(): QueueMetricsSnapshot {
    const droppedBy = {} as Record<DropReason, number>;
    for (const reason of DROP_REASONS) droppedBy[reason] = this.drops[reason];
    return {
      at: this.scheduler.now(),
      depth: this.queued,
      capacity: this.bound,
      enqueued: this.received,
      dequeued: this.emitted,
      dropped: this.droppedTotal,
      droppedBy,
      queueTime: {
        p50: this.waits.percentile(0.5),
        p90: this.waits.percentile(0.9),
        p99: this.waits.percentile(0.99),
        p999: this.waits.percentile(0.999),
        max: this.waits.max,
      },
    };
  }

  // ---- recording, called by the queue engine (not part of the public contract) ----

  /** @internal an operator subscription with this capacity starts (or its capacity changes by `delta`). */
  _capacity(delta: number): void {
    this.bound += delta;
  }

  /** @internal a value was received. */
  _received(): void {
    this.received++;
  }

  /** @internal a received value went into a queue. */
  _queued(): void {
    this.queued++;
  }

  /** @internal a value was emitted after waiting `wait` ms (0 when delivered at once). */
  _emitted(wait: number, fromQueue: boolean): void {
    this.emitted++;
    if (fromQueue) this.queued--;
    this.waits.record(wait);
  }

  /** @internal a value was dropped. */
  _dropped(reason: DropReason, fromQueue: boolean): void {
    this.droppedTotal++;
    this.drops[reason]++;
    if (fromQueue) this.queued--;
  }
}
