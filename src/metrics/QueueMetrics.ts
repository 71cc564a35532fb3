import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { DROP_REASONS } from '../types.js';
import type { DropReason } from '../types.js';
import { checkOptions, probability, scheduler as checkScheduler } from '../internal/options.js';
import { Histogram } from './Histogram.js';
import { RECORDER } from './port.js';
import type { QueueRecorder } from './port.js';
import { alertLimits } from './alerts.js';
import type { QueueAlert, QueueAlertKind, QueueAlertState, QueueAlertThresholds } from './alerts.js';

/** Options of {@link QueueMetrics}. */
export interface QueueMetricsOptions {
  /** The clock for queue times and alert evaluation. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
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
  /**
   * Values per second enqueued, dequeued and dropped since the previous `snapshot()` call (since construction for the
   * first); 0 when no scheduler time has passed.
   */
  rates: { enqueued: number; dequeued: number; dropped: number };
}

/** Counters at one evaluation, to measure the next interval against. */
interface Mark {
  dequeued: number;
  dropped: number;
  waits: Histogram;
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
 * import { QueueMetrics, drain, dropOnFull } from 'rxjs-backpressure';
 *
 * const metrics = new QueueMetrics();
 * events$.pipe(dropOnFull({ capacity: 1000, metrics }), drain(handle, { concurrency: 4 })).subscribe();
 * setInterval(() => console.log(metrics.snapshot()), 5000);
 * metrics.alerts().subscribe((a) => log.warn(`${a.kind} alert ${a.state}: ${a.value} (limit ${a.threshold})`));
 * ```
 *
 * @param options `scheduler`: the clock for snapshot times, rates and alert evaluation
 * @see {@link QueueMetrics.alerts} alert transitions
 * @see {@link dropOnFull}, {@link bufferBounded}, {@link shedByPriority}, {@link adaptiveBuffer} the operators that report here
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
    failed: 0,
  };
  private readonly queues = new Set<{ oldestTime(): number | undefined }>();
  private droppedTotal = 0;
  private readonly histogram = new Histogram();
  /** Dequeues with wait 0 not yet added to the histogram (one increment on the fast path instead of a record). */
  private zeroWaits = 0;
  private lastSnapshot: { at: number; enqueued: number; dequeued: number; dropped: number };

  constructor(options: QueueMetricsOptions = {}) {
    checkOptions('QueueMetrics', options, ['scheduler']);
    this.scheduler =
      options.scheduler === undefined ? asyncScheduler : checkScheduler('QueueMetrics', 'scheduler', options.scheduler);
    this.lastSnapshot = { at: this.scheduler.now(), enqueued: 0, dequeued: 0, dropped: 0 };
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
    const n = Object.prototype.hasOwnProperty.call(this.drops, reason) ? this.drops[reason] : undefined;
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

  /**
   * Plain JSON of every counter, gauge, the usual percentiles, and the rates since the previous `snapshot()` call.
   * Reads the clock once.
   */
  snapshot(): QueueMetricsSnapshot {
    const at = this.scheduler.now();
    const droppedBy = {} as Record<DropReason, number>;
    for (const reason of DROP_REASONS) droppedBy[reason] = this.drops[reason];
    const last = this.lastSnapshot;
    const seconds = (at - last.at) / 1000;
    const rate = (now: number, before: number): number => (seconds > 0 ? (now - before) / seconds : 0);
    const rates = {
      enqueued: rate(this.received, last.enqueued),
      dequeued: rate(this.emitted, last.dequeued),
      dropped: rate(this.droppedTotal, last.dropped),
    };
    this.lastSnapshot = { at, enqueued: this.received, dequeued: this.emitted, dropped: this.droppedTotal };
    return {
      at,
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
      rates,
    };
  }

  /**
   * Alert transitions for the three queue alerts, evaluated every `interval` ms (default 1000) of this metrics'
   * scheduler while subscribed.
   *
   * - `depth`: raised while depth > `depthRatio` × capacity (default 0.8), read at each evaluation.
   * - `dropRate`: raised while dropped / (dequeued + dropped) over the last interval > `dropRate` (default 0.01): the
   *   share of the values that left the queues in that interval by being dropped.
   * - `queueTime`: raised while the p99 queue time of the values dequeued in the last interval, or the age of the
   *   oldest value still queued if that is longer, > `queueTimeP99` ms (default 5000), from the fixed-memory
   *   histogram (2% relative error). So a stalled consumer, which dequeues nothing, still raises it.
   *
   * Every alert starts cleared and is emitted only when its state changes, at the evaluation that sees the change, so
   * within one interval of it; several transitions at one evaluation come in the order depth, dropRate, queueTime.
   * The windows are the intervals between evaluations, so an alert clears as soon as one interval is healthy. An idle
   * interval is healthy: with nothing dequeued or dropped the drop rate reads 0, and with nothing dequeued and nothing
   * queued the queue time reads 0, so an idle queue never keeps an alert raised.
   *
   * Each subscription runs its own evaluation timer on the scheduler, cancelled on unsubscribe; nothing is scheduled
   * while no one subscribes. Thresholds are checked at this call.
   *
   * ```
   * metrics:  depth 9 of capacity 10 from 1.5 s, 2 of 10 from 3.2 s
   * alerts({ interval: 1000 })
   * output:   --1s--R--1s--.--1s--C-- ...     R = { kind: 'depth', state: 'raised', value: 0.9, threshold: 0.8, at: 2000 }
   *                                           C = { kind: 'depth', state: 'cleared', value: 0.2, threshold: 0.8, at: 4000 }
   * ```
   *
   * ## Example
   * ```ts
   * import { QueueMetrics, drain, dropOnFull } from 'rxjs-backpressure';
   *
   * const metrics = new QueueMetrics();
   * jobs$.pipe(dropOnFull({ capacity: 500, metrics }), drain(run, { concurrency: 8 })).subscribe();
   * metrics
   *   .alerts({ dropRate: 0.05, queueTimeP99: 2000 })
   *   .subscribe((a) => pager.notify(`${a.kind} ${a.state}: ${a.value} > ${a.threshold}`));
   * ```
   *
   * @param thresholds `depthRatio` (0.8), `dropRate` (0.01), `queueTimeP99` in ms (5000), `interval` in ms (1000, at
   * most 1000)
   * @see {@link QueueMetrics.snapshot} the numbers behind the alerts
   */
  alerts(thresholds: QueueAlertThresholds = {}): Observable<QueueAlert> {
    const limits = alertLimits(thresholds);
    return new Observable<QueueAlert>((subscriber) => {
      const states: Record<QueueAlertKind, QueueAlertState> = {
        depth: 'cleared',
        dropRate: 'cleared',
        queueTime: 'cleared',
      };
      const mark: Mark = { dequeued: this.emitted, dropped: this.droppedTotal, waits: this.waits.copy() };
      const judge = (kind: QueueAlertKind, value: number, threshold: number, at: number): void => {
        const state: QueueAlertState = value > threshold ? 'raised' : 'cleared';
        if (state === states[kind]) return;
        states[kind] = state;
        subscriber.next({ kind, state, value, threshold, at });
      };
      const evaluate = (): void => {
        const at = this.scheduler.now();
        judge('depth', this.bound > 0 ? this.queued / this.bound : 0, limits.depthRatio, at);
        const dequeued = this.emitted - mark.dequeued;
        const dropped = this.droppedTotal - mark.dropped;
        judge('dropRate', dequeued + dropped > 0 ? dropped / (dequeued + dropped) : 0, limits.dropRate, at);
        // The values still queued count with their age so far: a stalled consumer dequeues nothing, yet its oldest
        // value's wait already exceeds the threshold.
        const age = this.oldestAge(at);
        const p99 = this.waits.count > mark.waits.count ? this.waits.percentileSince(mark.waits, 0.99) : 0;
        judge('queueTime', Math.max(p99, age ?? 0), limits.queueTimeP99, at);
        mark.dequeued = this.emitted;
        mark.dropped = this.droppedTotal;
        mark.waits.copyFrom(this.waits);
      };
      // Each evaluation schedules the next as a fresh action (a virtual-time action that reschedules itself nests one
      // subscription per tick, which overflows the stack on teardown after some 10^4 ticks).
      let action: Subscription;
      const tick = (): void => {
        evaluate();
        if (subscriber.closed) return;
        const done = action;
        action = this.scheduler.schedule(tick, limits.interval);
        done.unsubscribe();
      };
      action = this.scheduler.schedule(tick, limits.interval);
      return () => action.unsubscribe();
    });
  }

  /** How long the oldest value still queued in any watched queue has waited, or undefined when all are empty. */
  private oldestAge(now: number): number | undefined {
    let oldest: number | undefined;
    for (const queue of this.queues) {
      const t = queue.oldestTime();
      if (t !== undefined && (oldest === undefined || t < oldest)) oldest = t;
    }
    return oldest === undefined ? undefined : now - oldest;
  }

  /** The queue-time histogram, with every zero wait counted in. */
  private get waits(): Histogram {
    if (this.zeroWaits > 0) {
      this.histogram.recordZeros(this.zeroWaits);
      this.zeroWaits = 0;
    }
    return this.histogram;
  }

  /**
   * @internal the recording port operators report to (versioned; see metrics/port.ts). One object per QueueMetrics,
   * made once.
   */
  readonly [RECORDER]: QueueRecorder = {
    capacity: (delta) => {
      this.bound += delta;
    },
    watch: (queue) => {
      this.queues.add(queue);
    },
    unwatch: (queue) => {
      this.queues.delete(queue);
    },
    received: () => {
      this.received++;
    },
    queued: () => {
      this.queued++;
    },
    emitted: (wait, fromQueue) => {
      this.emitted++;
      if (fromQueue) this.queued--;
      if (wait === 0) this.zeroWaits++;
      else this.histogram.record(wait);
    },
    dropped: (reason, fromQueue) => {
      this.droppedTotal++;
      this.drops[reason]++;
      if (fromQueue) this.queued--;
    },
  };
}
