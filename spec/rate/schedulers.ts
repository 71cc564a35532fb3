/**
 * Schedulers for hostile-time specs of the rate wing. Each keeps its timers on virtual time (like Node's timers, which
 * run on a monotonic clock) while `now()` is free to misbehave, or its timers to fire late.
 */
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { Clock } from '../contract/registry.js';

/** A virtual clock whose reading (`now()`) is off by `skew` ms: set it to step the wall clock back or forward. */
export class SteppingClock extends Clock {
  skew = 0;

  constructor() {
    super();
    this.now = () => this.frame + this.skew;
  }
}

/**
 * A scheduler whose timers cannot fire before `stalledUntil` (virtual ms): an event loop busy with synchronous work.
 * `now()` reads the true (virtual) time.
 */
export function stalled(clock: Clock, stalledUntil: number): SchedulerLike {
  return {
    now: () => clock.now(),
    schedule: ((work: (this: SchedulerAction<unknown>, state?: unknown) => void, delay = 0, state?: unknown) =>
      clock.schedule(work, Math.max(delay, stalledUntil - clock.now()), state)) as SchedulerLike['schedule'],
  };
}

/**
 * A minimal virtual scheduler that records every delay it is asked for, re-arms included (an action's own
 * `schedule`), so a spec can prove no timer is longer than a JavaScript timer holds.
 */
export class RecordingScheduler implements SchedulerLike {
  readonly delays: number[] = [];
  private time = 0;
  private queue: { at: number; seq: number; run: () => void; cancelled: boolean }[] = [];
  private seq = 0;

  now(): number {
    return this.time;
  }

  schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay = 0, state?: S): Subscription {
    let entry: { at: number; seq: number; run: () => void; cancelled: boolean } | undefined;
    const action = {
      closed: false,
      schedule: (next?: S, again = 0): Subscription => {
        this.delays.push(again);
        entry = this.enqueue(again, () => work.call(action as never, next));
        return action as never;
      },
      unsubscribe: () => {
        action.closed = true;
        if (entry) entry.cancelled = true;
      },
    };
    this.delays.push(delay);
    entry = this.enqueue(delay, () => work.call(action as never, state));
    return action as never;
  }

  /** Runs every action due by `until`, in time order. */
  runUntil(until: number): void {
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (next === undefined || next.at > until) break;
      this.queue.shift();
      if (next.cancelled) continue;
      this.time = next.at;
      next.run();
    }
    this.time = until;
  }

  get pending(): number {
    return this.queue.filter((e) => !e.cancelled).length;
  }

  private enqueue(delay: number, run: () => void) {
    const entry = { at: this.time + delay, seq: this.seq++, run, cancelled: false };
    this.queue.push(entry);
    return entry;
  }
}
