import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { Demand } from '../demand/Demand.js';
import {
  demandInput,
  fail,
  observerOrFunction,
  optional,
  scheduler,
  shaped,
  withDefault,
} from '../internal/options.js';
import type { Check } from '../internal/options.js';
import { recorderOf } from '../metrics/port.js';
import type { QueueRecorder } from '../metrics/port.js';
import type { QueueMetrics } from '../metrics/QueueMetrics.js';
import type { DemandInput, DropHandler } from '../types.js';

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
