import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

/**
 * Time, as every export reads and waits for it.
 *
 * **Reads never go backwards.** The default `asyncScheduler` reads `Date.now()`, which steps back on an NTP
 * correction or a VM resume. Arithmetic of the form `level + (now - anchor) * rate` would then remove tokens for the
 * length of the step, and `now - openedAt >= resetTimeout` would hold a breaker open as long. A {@link Clock} turns a
 * step back into time standing still at the last reading, then moves on from there: nothing is added or removed by
 * the step, and nothing waits longer than it would have from the first reading that saw the step (after
 * golang.org/x/time/rate, whose limiter treats a jump backwards the same way). A step forward cannot be told from a
 * pause with no reading in it, so it counts as time that passed: a bucket refills (up to `burst`), an open breaker may
 * go half-open. Deadlines are not judged by such readings: a timer decides them (see circuitBreak).
 *
 * **Waits longer than 2^31 - 1 ms are split.** Node turns a longer `setTimeout` into 1 ms (with a warning), so a
 * monthly quota would spin. {@link scheduleAfter} waits in steps of at most that length, counting the remaining time
 * down by the steps it waited (not by readings, which may step), and runs the work once all of it has passed.
 *
 * @internal
 */
export class Clock {
  private last = -Infinity;
  private offset = 0;

  constructor(readonly scheduler: SchedulerLike) {}

  /** `scheduler.now()`, never below an earlier reading. */
  now(): number {
    return this.read(this.scheduler.now());
  }

  /** A reading of this clock in the scheduler's own frame (what `scheduler.now()` read then, steps included). */
  toScheduler(t: number): number {
    return t - this.offset;
  }

  /** A reading taken elsewhere (e.g. a store's `request.now`), made monotonic with the others. */
  read(raw: number): number {
    const t = raw + this.offset;
    if (t >= this.last) {
      this.last = t;
      return t;
    }
    // Stepped back: stand still at the last reading, and move on from there.
    this.offset += this.last - t;
    return this.last;
  }
}

/** The longest delay a JavaScript timer holds without overflowing (about 24.8 days). */
export const MAX_DELAY = 2 ** 31 - 1;

/**
 * `scheduler.schedule(work, delay)` for any finite delay: above {@link MAX_DELAY} it waits in steps and re-arms the
 * same action until the whole delay has passed. Unsubscribing the result cancels whichever step is pending.
 */
export function scheduleAfter(scheduler: SchedulerLike, delay: number, work: () => void): Subscription {
  if (!(delay > MAX_DELAY)) return scheduler.schedule(work, delay > 0 ? delay : 0);
  let remaining = delay - MAX_DELAY;
  return scheduler.schedule(function (this: SchedulerAction<unknown>) {
    if (remaining > 0) {
      const step = remaining < MAX_DELAY ? remaining : MAX_DELAY;
      remaining -= step;
      this.schedule(undefined, step);
      return;
    }
    work();
  }, MAX_DELAY);
}
