import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { Demand } from '../demand/Demand.js';
import {
  checkOptions,
  demandInput,
  fail,
  observerOrFunction,
  optional,
  positiveNumber,
  scheduler,
  shaped,
  withDefault,
} from '../internal/options.js';
import type { Check } from '../internal/options.js';
import { recorderOf } from '../metrics/port.js';
import type { QueueRecorder } from '../metrics/port.js';
import type { QueueMetrics } from '../metrics/QueueMetrics.js';
import type { DemandInput, DropHandler } from '../types.js';
import type { CodelSettings } from './expiry.js';

/** Options every queue operator takes. */
export interface QueueOptions<T> {
  /**
   * Reactive Streams credits for the consumer side. Without it, the queue takes its credit from the drain (or other
   * consumer) it is linked to below; with neither, demand is unbounded.
   */
  demand?: DemandInput | undefined;
  /** Told of every dropped value, with its reason and time. */
  onDrop?: DropHandler<T> | undefined;
  /** Counters, gauges and queue-time percentiles; one object may be shared by several operators. */
  metrics?: QueueMetrics | undefined;
  /** The clock for drop times and queue-time metrics. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/** A QueueMetrics (from any copy of the package), checked by its recording port: its recorder. */
const metricsCheck: Check<QueueRecorder | undefined> = (operator, option, value) => {
  if (value === undefined) return undefined;
  // By its port, not instanceof: importing the class would put QueueMetrics (and its histogram) into the bundle of
  // every queue operator; a QueueMetrics from another copy of the package is accepted too.
  return recorderOf(value) ?? fail(operator, option, 'a QueueMetrics', value, 'type');
};

/** The schema of the options every queue operator shares. */
export const QUEUE_SCHEMA = {
  demand: optional(demandInput<DemandInput>),
  onDrop: optional(observerOrFunction<DropHandler<unknown>>),
  metrics: metricsCheck,
  scheduler: withDefault(scheduler, asyncScheduler),
};

/** The producer's Demand, checked by shape (it only needs request()), so the Demand class is not bundled. */
export const upstreamCheck = optional(shaped<Demand>('a Demand', ['request']));

/** Options of the lossy queue operators (every one but bufferBounded): how long a value may wait. */
export interface AgingOptions {
  /**
   * ms a value may stay queued: a positive finite number. A value whose age (from its arrival, on the scheduler)
   * reaches it is dropped at that instant (reason `'expired'`) instead of being emitted late: it neither holds a slot
   * nor delays completion. A value dequeued after an event-loop stall is judged by the clock then, too.
   */
  maxAge?: number | undefined;
  /**
   * The CoDel discipline (RFC 8289), `{ target, interval }` in ms (positive finite numbers): once the queue wait of the
   * values being dequeued has stayed above `target` for `interval`, values are dropped from the head (reason
   * `'expired'`) at the control-law pace (`interval / sqrt(drops)`) until the wait is back under `target`. A drop
   * spends no credit. It acts at dequeue, so it needs a consumer that takes values (a stalled one is bounded by
   * `maxAge`).
   */
  codel?: CodelSettings | undefined;
}

const codelCheck: Check<CodelSettings | undefined> = (operator, option, value) => {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) fail(operator, option, '{ target, interval }', value, 'type');
  checkOptions(`${operator}: ${option}`, value, ['target', 'interval']);
  const { target, interval } = value as Record<string, unknown>;
  return {
    target: positiveNumber(operator, `${option}.target`, target),
    interval: positiveNumber(operator, `${option}.interval`, interval),
  };
};

export const AGING_SCHEMA = {
  maxAge: optional<number>(positiveNumber),
  codel: codelCheck,
};
