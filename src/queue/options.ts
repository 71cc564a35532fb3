import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { Demand } from '../demand/Demand.js';
import { demandInput, fail, observerOrFunction, positiveInteger, scheduler } from '../internal/validate.js';
import type { QueueMetrics } from '../metrics/QueueMetrics.js';
import type { DemandInput, DropHandler } from '../types.js';

/** Options every queue operator takes. */
export interface QueueOptions<T> {
  /** Reactive Streams credits for the consumer side; without it demand is unbounded. */
  demand?: DemandInput | undefined;
  /** Told of every dropped value, with its reason and time. */
  onDrop?: DropHandler<T> | undefined;
  /** Counters, gauges and queue-time percentiles; one object may be shared by several operators. */
  metrics?: QueueMetrics | undefined;
  /** The clock for drop times and queue-time metrics. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

export const QUEUE_OPTION_KEYS = ['demand', 'onDrop', 'metrics', 'scheduler'] as const;

/** Validates the options shared by every queue operator (the caller has checked the options object and its keys). */
export function queueOptions<T>(
  operator: string,
  options: QueueOptions<T>,
): {
  demand: DemandInput | undefined;
  onDrop: DropHandler<T> | undefined;
  metrics: QueueMetrics | undefined;
  scheduler: SchedulerLike;
} {
  if (options.demand !== undefined) demandInput(operator, 'demand', options.demand);
  if (options.onDrop !== undefined) observerOrFunction(operator, 'onDrop', options.onDrop);
  // Checked by shape, not instanceof: importing the class would put QueueMetrics (and its histogram) into the bundle
  // of every queue operator; a QueueMetrics from another copy of the package is accepted too.
  if (options.metrics !== undefined && !isQueueMetrics(options.metrics)) {
    fail(operator, 'metrics', 'a QueueMetrics', options.metrics, 'type');
  }
  return {
    demand: options.demand,
    onDrop: options.onDrop,
    metrics: options.metrics,
    scheduler: options.scheduler === undefined ? asyncScheduler : scheduler(operator, options.scheduler),
  };
}

export function capacityOption(operator: string, value: unknown, option = 'capacity'): number {
  return positiveInteger(operator, option, value);
}

export function upstreamOption(operator: string, value: unknown): Demand | undefined {
  if (value === undefined) return undefined;
  // By shape (it only needs request()), so the Demand class is not bundled into every queue operator.
  if (typeof value !== 'object' || value === null || typeof (value as Demand).request !== 'function') {
    fail(operator, 'upstream', 'a Demand', value, 'type');
  }
  return value as Demand;
}

const RECORDERS = ['_capacity', '_watch', '_unwatch', '_received', '_queued', '_emitted', '_dropped'] as const;

function isQueueMetrics(value: unknown): value is QueueMetrics {
  return (
    typeof value === 'object' &&
    value !== null &&
    RECORDERS.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
  );
}
