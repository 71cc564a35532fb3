import type { SchedulerLike, Subscription } from 'rxjs';
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

/** Where a wait stands against the target: over 2 x target, under target / 2, or within the dead band between. */
export type LatencyBand = 'over' | 'within' | 'under';

/** The band of one wait (ms) against `targetLatency`. Exactly 2 x target and exactly target / 2 are within. */
export function bandOf(latency: number, targetLatency: number): LatencyBand {
  if (latency > 2 * targetLatency) return 'over';
  if (latency < targetLatency / 2) return 'under';
  return 'within';
}

/**
 * The next capacity after one interval whose queue wait, at the chosen percentile, was `latency` ms.
 *
 * Above 2 x target it shrinks by `decrease`, rounded down; below target / 2 it grows by `increase`, rounded up; in
 * between it holds (the dead band keeps a steady load from flip-flopping). Rounding away from the current capacity
 * makes every step move at least one slot, so a capacity of 1 with `increase` 1.2 still grows. The result is clamped
 * to [minCapacity, maxCapacity].
 */
export function nextCapacity(capacity: number, latency: number, settings: AdaptiveSettings): number {
  return step(capacity, bandOf(latency, settings.targetLatency), settings);
}

function step(capacity: number, band: LatencyBand, settings: AdaptiveSettings): number {
  const { minCapacity, maxCapacity } = settings;
  let next = capacity;
  if (band === 'over') next = Math.min(capacity - 1, Math.floor(capacity * settings.decrease + ROUNDING_SLACK));
  else if (band === 'under') next = Math.max(capacity + 1, Math.ceil(capacity * settings.increase - ROUNDING_SLACK));
  return Math.min(maxCapacity, Math.max(minCapacity, next));
}

/**
 * The waits of one interval, counted against the two thresholds: exactly the band of their percentile, in three
 * counters. The percentile is the wait of rank ceil(p x n) in ascending order; it is over 2 x target when fewer than
 * that many waits are at most 2 x target, and under target / 2 when at least that many are below target / 2.
 */
class WaitCounts {
  private total = 0;
  private atMostCeiling = 0;
  private belowFloor = 0;

  constructor(
    private readonly floor: number,
    private readonly ceiling: number,
  ) {}

  record(wait: number): void {
    this.total++;
    if (wait <= this.ceiling) this.atMostCeiling++;
    if (wait < this.floor) this.belowFloor++;
  }

  /** The band of the `percentile` wait; an interval with no wait reads as 0, under the floor. */
  band(percentile: number): LatencyBand {
    if (this.total === 0) return 'under';
    const rank = Math.max(1, Math.ceil(percentile * this.total - ROUNDING_SLACK));
    if (this.atMostCeiling < rank) return 'over';
    return this.belowFloor >= rank ? 'under' : 'within';
  }

  reset(): void {
    this.total = 0;
    this.atMostCeiling = 0;
    this.belowFloor = 0;
  }
}

/**
 * Why the controller stopped its timer: every tick until the next event would change nothing.
 * - `idle`: at `maxCapacity` with nothing queued; each interval reads as 0 and cannot grow it further. Woken by a
 *   value being queued.
 * - `stalled`: at `minCapacity` with the oldest queued value already over 2 x target, and older at every tick. Woken
 *   by a value being queued (it may evict the oldest) or delivered.
 */
type Sleep = 'idle' | 'stalled';

/**
 * A capacity controller for the queue engine: every `interval` it takes the band of the queue-wait percentile of the
 * values delivered in that interval, plus the age of the oldest value still queued (so a stalled consumer, which
 * delivers nothing, still shrinks the queue), and resizes the queue.
 *
 * One controller per subscription. Its timer sleeps while every tick would change nothing (see {@link Sleep}), so an
 * idle stream leaves nothing on the scheduler and a marble test over a stream that never ends still finishes; waking,
 * it keeps the phase of the ticks it skipped. The one difference a sleep makes: values delivered at once (a wait of 0)
 * during the interval in which it wakes, before waking, are not counted. The scheduled action is cancelled when the
 * engine unsubscribes the controller (completion, error or teardown).
 */
export function adaptiveCapacity(settings: AdaptiveSettings): (queue: QueueHandle) => QueueController {
  return (queue) => {
    const { scheduler, interval, percentile, onCapacity, targetLatency } = settings;
    const waits = new WaitCounts(targetLatency / 2, 2 * targetLatency);
    let stopped = false;
    let asleep: Sleep | undefined;
    /** The time of the last tick (at first, of the start): ticks fall every `interval` after it. */
    let phase = scheduler.now();

    const adjust = (): Sleep | undefined => {
      const oldest = queue.oldestTime();
      const age = oldest === undefined ? 0 : phase - oldest;
      if (oldest !== undefined) waits.record(age);
      const next = step(queue.capacity, waits.band(percentile), settings);
      waits.reset();
      if (next !== queue.capacity) {
        queue.setCapacity(next);
        if (onCapacity !== undefined) {
          try {
            onCapacity(next);
          } catch (error) {
            queue.fail(error);
            return undefined;
          }
        }
      }
      // onCapacity may have pushed values into the source: judge the queue as it is now
      const head = queue.oldestTime();
      if (head === undefined) return next === settings.maxCapacity ? 'idle' : undefined;
      return next === settings.minCapacity && phase - head > 2 * targetLatency ? 'stalled' : undefined;
    };

    // Each adjustment schedules the next as a fresh action: a virtual-time action that reschedules itself nests one
    // child subscription per interval, which overflows the stack on teardown after some 10^4 intervals.
    const tick = (): void => {
      phase = scheduler.now();
      const sleep = adjust();
      if (stopped) return;
      const done = action;
      asleep = sleep;
      action = sleep === undefined ? scheduler.schedule(tick, interval) : undefined;
      done?.unsubscribe();
    };
    let action: Subscription | undefined = scheduler.schedule(tick, interval);

    /** Restarts the ticks where they would have fallen; the skipped ones would have changed nothing. */
    const wake = (): void => {
      asleep = undefined;
      const now = scheduler.now();
      const skipped = Math.max(1, Math.ceil((now - phase) / interval));
      // a tick skipped strictly before now would have started a new interval
      if (phase + interval < now) waits.reset();
      phase += (skipped - 1) * interval;
      action = scheduler.schedule(tick, phase + interval - now);
    };

    return {
      queued() {
        if (asleep !== undefined) wake();
      },
      delivered(wait) {
        if (asleep === 'stalled') wake();
        waits.record(wait);
      },
      unsubscribe() {
        stopped = true;
        action?.unsubscribe();
      },
    };
  };
}
