/**
 * Schedulers that misbehave the way real ones do, for the breaker and retry specs.
 *
 * Real timers (Node's setTimeout / setInterval) run on a monotonic clock, while `asyncScheduler.now()` reads
 * `Date.now()`, the wall clock, which steps on an NTP correction or a VM resume. A {@link SteppingClock} separates the
 * two: its actions fall due by *timer time* (the virtual frame, which only moves forward), while `now()` returns
 * timer time plus a wall-clock offset that {@link SteppingClock.step} moves back or forward at will.
 *
 * With `nodeTimers`, a delay above 2^31 - 1 ms is run after 1 ms, as Node does (with a TimeoutOverflowWarning), so a
 * spec sees the spin a long `resetTimeout` or `Retry-After` causes on a real scheduler.
 */
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { Clock } from '../contract/registry.js';

/** The longest delay a Node timer holds; a longer one fires after 1 ms. */
export const NODE_MAX_DELAY = 2 ** 31 - 1;

export class SteppingClock extends Clock {
  /** now() - timer time. */
  offset = 0;
  /** Every delay handed to `schedule`, in order. */
  readonly delays: number[] = [];

  constructor(private readonly nodeTimers = false) {
    super();
    this.now = () => this.frame + this.offset;
  }

  /** The wall clock jumps by `ms` (negative: back); timers are not affected. */
  step(ms: number): void {
    this.offset += ms;
  }

  override schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    this.delays.push(delay);
    return super.schedule(work, this.nodeTimers && delay > NODE_MAX_DELAY ? 1 : delay, state);
  }

  /** Timer time (what has really passed). */
  get timerTime(): number {
    return this.frame;
  }
}

/** A plain SchedulerLike view of a clock, so code under test cannot reach the virtual scheduler's internals. */
export function schedulerOf(clock: SteppingClock): SchedulerLike {
  return { now: () => clock.now(), schedule: clock.schedule.bind(clock) as SchedulerLike['schedule'] };
}
