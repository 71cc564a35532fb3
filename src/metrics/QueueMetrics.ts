import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { DROP_REASONS } from '../types.js';
import type { DropReason } from '../types.js';
import { checkOptions, probability, scheduler as checkScheduler } from '../internal/options.js';
import { Histogram } from './Histogram.js';
import { RECORDER } from './port.js';
import type { QueueRecorder, WaitObserver } from './port.js';
import { alertLimits, judge } from './alerts.js';
import type { AlertPhase, QueueAlert, QueueAlertKind, QueueAlertThresholds } from './alerts.js';
import { Clock, scheduleAfter } from '../internal/clock.js';

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

const INACTIVE: AlertPhase = { kind: 'inactive' };

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
 * @see {@link dropOnFull}, {@link bufferBounded}, {@link shedByPriority}, {@link adaptiveBuffer} the operators that
 * report here
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
  /**
   * Exporters fed every wait > 0 (a Prometheus histogram); copied on change, undefined when there is none. Set in the
   * constructor, so that every QueueMetrics has one shape whether an exporter is attached or not: a property added
   * later would make the recorder's property reads polymorphic, and the fast path slower, for every instance.
   */
  private observers: readonly WaitObserver[] | undefined = undefined;

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
   * Alert transitions for the three queue alerts, evaluated every `interval` ms (default 1000, at most 60000) of this
   * metrics' scheduler while subscribed, each raised once its condition has held for `for` ms (default 0).
   *
   * - `depth`: holds while depth > `depthRatio` × capacity (default 0.8), read at each evaluation.
   * - `dropRate`: holds while dropped / (dequeued + dropped) over the last interval > `dropRate` (default 0.01): the
   *   share of the values that left the queues in that interval by being dropped.
   * - `queueTime`: holds while the p99 queue time of the values dequeued in the last interval, or the age of the
   *   oldest value still queued if that is longer, > `queueTimeP99` ms (default 5000), from the fixed-memory
   *   histogram (2% relative error). So a stalled consumer, which dequeues nothing, still raises it.
   *
   * Raising and clearing follow a Prometheus alerting rule with `for`: an alert whose condition holds at an evaluation
   * becomes pending; it is raised at the first evaluation at which the condition has held at every evaluation for at
   * least `for` ms since the one that first saw it (so with `for: 0` at that first one, and a `for` shorter than
   * `interval` waits for the next evaluation). An evaluation at which the condition does not hold clears a raised alert
   * at once, as Prometheus resolves an alert, and sends a pending one back to the start: a flap shorter than `for` is
   * never raised, and the next one waits the whole `for` again.
   *
   * Every alert starts cleared and is emitted only when its state changes, at the evaluation that sees the change;
   * several transitions at one evaluation come in the order depth, dropRate, queueTime. The windows are the intervals
   * between evaluations. An idle interval is healthy: with nothing dequeued or dropped the drop rate reads 0, and with
   * nothing dequeued and nothing queued the queue time reads 0, so an idle queue never keeps an alert raised.
   *
   * Each subscription runs its own evaluation timer on the scheduler, cancelled on unsubscribe; nothing is scheduled
   * while no one subscribes. Time is read through a clock that never goes backwards: a scheduler stepping back stands
   * still for `for` and `at`. Thresholds are checked at this call.
   *
   * ```
   * metrics:  depth 9 of capacity 10 from 1.5 s to 6.2 s
   * alerts({ interval: 1000, for: 3000 })
   * output:   --1s--P--1s--.--1s--.--1s--R--1s--.--1s--C-- ...
   *                 P: pending at 2 s (no emission)
   *                 R = { kind: 'depth', state: 'raised', value: 0.9, threshold: 0.8, at: 5000 }
   *                 C = { kind: 'depth', state: 'cleared', value: 0, threshold: 0.8, at: 7000 }
   * ```
   *
   * ## Example
   * ```ts
   * import { QueueMetrics, drain, dropOnFull } from 'rxjs-backpressure';
   *
   * const metrics = new QueueMetrics();
   * jobs$.pipe(dropOnFull({ capacity: 500, metrics }), drain(run, { concurrency: 8 })).subscribe();
   * metrics
   *   // evaluated every 15 s; paged only after 1 minute of trouble
   *   .alerts({ dropRate: 0.05, queueTimeP99: 2000, interval: 15_000, for: 60_000 })
   *   .subscribe((a) => pager.notify(`${a.kind} ${a.state}: ${a.value} > ${a.threshold}`));
   * ```
   *
   * @param thresholds `depthRatio` (0.8), `dropRate` (0.01), `queueTimeP99` in ms (5000), `interval` in ms (1000, at
   * most 60000), `for` in ms (0)
   * @see {@link QueueMetrics.snapshot} the numbers behind the alerts
   */
  alerts(thresholds: QueueAlertThresholds = {}): Observable<QueueAlert> {
    const limits = alertLimits(thresholds);
    return new Observable<QueueAlert>((subscriber) => {
      const clock = new Clock(this.scheduler);
      const phases: Record<QueueAlertKind, AlertPhase> = {
        depth: INACTIVE,
        dropRate: INACTIVE,
        queueTime: INACTIVE,
      };
      const mark: Mark = { dequeued: this.emitted, dropped: this.droppedTotal, waits: this.waits.copy() };
      const check = (kind: QueueAlertKind, value: number, threshold: number, at: number): void => {
        const next = judge(phases[kind], value > threshold, at, limits.for);
        phases[kind] = next.phase;
        if (next.transition !== undefined) subscriber.next({ kind, state: next.transition, value, threshold, at });
      };
      const evaluate = (): void => {
        const at = clock.now();
        check('depth', this.bound > 0 ? this.queued / this.bound : 0, limits.depthRatio, at);
        const dequeued = this.emitted - mark.dequeued;
        const dropped = this.droppedTotal - mark.dropped;
        check('dropRate', dequeued + dropped > 0 ? dropped / (dequeued + dropped) : 0, limits.dropRate, at);
        // The values still queued count with their age so far: a stalled consumer dequeues nothing, yet its oldest
        // value's wait already exceeds the threshold. The queues keep their times in the scheduler's own frame.
        const age = this.oldestAge(clock.toScheduler(at));
        const p99 = this.waits.count > mark.waits.count ? this.waits.percentileSince(mark.waits, 0.99) : 0;
        check('queueTime', Math.max(p99, age ?? 0), limits.queueTimeP99, at);
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
        action = scheduleAfter(this.scheduler, limits.interval, tick);
        done.unsubscribe();
      };
      action = scheduleAfter(this.scheduler, limits.interval, tick);
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

  /** A value was emitted after waiting `wait` ms (not 0): into the histogram, and to the exporters observing. */
  private waited(wait: number): void {
    this.histogram.record(wait);
    const observers = this.observers;
    if (observers !== undefined) for (const observer of observers) observer.waited(wait);
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
      else this.waited(wait);
    },
    dropped: (reason, fromQueue) => {
      this.droppedTotal++;
      this.drops[reason]++;
      if (fromQueue) this.queued--;
    },
    observe: (observer) => {
      this.observers = [...(this.observers ?? []), observer];
      let observing = true;
      return () => {
        if (!observing) return;
        observing = false;
        const rest = [...(this.observers ?? [])];
        rest.splice(rest.indexOf(observer), 1);
        this.observers = rest.length > 0 ? rest : undefined;
      };
    },
  };
}
