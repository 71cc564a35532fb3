import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { Demand } from '../demand/Demand.js';
import { demandInput, fail, observerOrFunction, positiveInteger, scheduler } from '../internal/validate.js';
import { QueueMetrics } from '../metrics/QueueMetrics.js';
import type { DemandInput, DropHandler } from '../types.js';

/** Options every queue operator takes. */
export interface QueueOptions<T> {
  /** Reactive Streams credits for the consumer side; without it demand is unbounded. */
  demand?: DemandInput;
  /** Told of every dropped value, with its reason and time. */
  onDrop?: DropHandler<T>;
  /** Counters, gauges and queue-time percentiles; one object may be shared by several operators. */
  metrics?: QueueMetrics;
  /** The clock for drop times and queue-time metrics. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
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
  if (options.metrics !== undefined && !(options.metrics instanceof QueueMetrics)) {
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
  if (!(value instanceof Demand)) fail(operator, 'upstream', 'a Demand', value, 'type');
  return value;
}
