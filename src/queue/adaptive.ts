import type { SchedulerLike, Subscription } from 'rxjs';
import { Histogram } from '../metrics/Histogram.js';
import type { QueueController, QueueHandle } from './engine.js';

/** The validated settings of an adaptive capacity controller. */
export interface AdaptiveSettings {
  minCapacity: number;
  maxCapacity: number;
  targetLatency: number;
  percentile: number;
  interval: number;
  decrease: number;
  increase: number;
  scheduler: SchedulerLike;
  /** Told of every capacity change (not of the initial capacity). */
  onCapacity?: ((capacity: number) => void) | undefined;
}

/** Products within this of an integer count as that integer, so 10 * 1.2 grows to 12, not 13. */
const ROUNDING_SLACK = 1e-9;

/**
 * The next capacity after one interval whose queue wait, at the chosen percentile, was `latency` ms.
 *
 * Above 2 x target it shrinks by `decrease`, rounded down; below target / 2 it grows by `increase`, rounded up; in
 * between it holds (the dead band keeps a steady load from flip-flopping). Rounding away from the current capacity
 * makes every step move at least one slot, so a capacity of 1 with `increase` 1.2 still grows. The result is clamped
 * to [minCapacity, maxCapacity].
 */
export function nextCapacity(capacity: number, latency: number, settings: AdaptiveSettings): number {
  const { targetLatency, minCapacity, maxCapacity } = settings;
  let next = capacity;
  if (latency > 2 * targetLatency) {
    next = Math.min(capacity - 1, Math.floor(capacity * settings.decrease + ROUNDING_SLACK));
  } else if (latency < targetLatency / 2) {
    next = Math.max(capacity + 1, Math.ceil(capacity * settings.increase - ROUNDING_SLACK));
  }
  return Math.min(maxCapacity, Math.max(minCapacity, next));
}

/**
 * A capacity controller for the queue engine: every `interval` it reads the queue-wait percentile of the values
 * delivered in that interval from a fixed-memory histogram, plus the age of the oldest value still queued (so a
 * stalled consumer, which delivers nothing, still shrinks the queue), and resizes the queue.
 *
 * One controller per subscription; its histogram is reset every interval. The scheduled action is cancelled when the
 * engine unsubscribes the controller (completion, error or teardown).
 */
export function adaptiveCapacity(settings: AdaptiveSettings): (queue: QueueHandle) => QueueController {
  return (queue) => {
    const waits = new Histogram();
    const { scheduler, interval, percentile, onCapacity } = settings;
    let stopped = false;

    const adjust = (): void => {
      const oldest = queue.oldestTime();
      if (oldest !== undefined) waits.record(scheduler.now() - oldest);
      const latency = waits.percentile(percentile);
      waits.reset();
      const next = nextCapacity(queue.capacity, latency, settings);
      if (next === queue.capacity) return;
      queue.setCapacity(next);
      if (onCapacity === undefined) return;
      try {
        onCapacity(next);
      } catch (error) {
        queue.fail(error);
      }
    };

    // Each adjustment schedules the next as a fresh action: a virtual-time action that reschedules itself nests one
    // child subscription per interval, which overflows the stack on teardown after some 10^4 intervals.
    const tick = (): void => {
      adjust();
      if (stopped) return;
      const done = action;
      action = scheduler.schedule(tick, interval);
      done.unsubscribe();
    };
    let action: Subscription = scheduler.schedule(tick, interval);

    return {
      delivered(wait) {
        waits.record(wait);
      },
      unsubscribe() {
        stopped = true;
        action.unsubscribe();
      },
    };
  };
}
