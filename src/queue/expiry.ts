import type { SchedulerLike, Subscription } from 'rxjs';
import { scheduleAfter } from '../internal/clock.js';
import type { Clock } from '../internal/clock.js';

/** The CoDel discipline's two settings (RFC 8289), in ms. */
export interface CodelSettings {
  /** The queue wait a value may have without counting against the queue. */
  target: number;
  /** How long the wait must stay above `target` before values are dropped, and the base of the drop pace. */
  interval: number;
}

/**
 * CoDel (Controlled Delay, RFC 8289): drops from the head of a queue whose wait has stayed above `target` for
 * `interval`, at the control-law pace `interval / sqrt(drops)`, until the wait is back under `target`.
 *
 * It judges the value being dequeued by how long it waited (its sojourn time), as the RFC does; a queue that has only
 * that value left is never dropped from (the RFC's MAXPACKET rule). The state survives between dequeues: dropping
 * that starts again within 8 intervals of the last drop resumes at `count - 2`, the rule of the original CoDel
 * (Nichols and Jacobson, 2012). RFC 8289 notes that implementations vary there and shows Linux's `count - lastcount`;
 * against a flood that does not slow down when dropped (an RxJS source), that rule falls back to a couple of drops
 * after every short spell and the wait never settles (bench/adaptive.bench.ts: p99 186 ms against a 21 ms goal), where
 * the original rule holds it near `target + interval`.
 */
export class Codel {
  private dropping = false;
  /** When the wait will have been above target for a whole interval (0: it is not above target). */
  private firstAbove = 0;
  private dropNext = 0;
  private count = 0;

  constructor(private readonly settings: CodelSettings) {}

  /**
   * Whether the value at the head, which waited `sojourn` ms, is dropped at `now`. `rest` is how many values are
   * queued behind it.
   */
  drops(sojourn: number, now: number, rest: number): boolean {
    const okToDrop = this.judge(sojourn, now, rest);
    const { interval } = this.settings;
    if (this.dropping) {
      if (!okToDrop) {
        this.dropping = false;
        return false;
      }
      if (now < this.dropNext) return false;
      this.count++;
      this.dropNext = this.law(this.dropNext, this.count);
      return true;
    }
    if (!okToDrop) return false;
    this.dropping = true;
    this.count = this.count > 2 && now - this.dropNext < 8 * interval ? this.count - 2 : 1;
    this.dropNext = this.law(now, this.count);
    return true;
  }

  private judge(sojourn: number, now: number, rest: number): boolean {
    if (sojourn < this.settings.target || rest === 0) {
      this.firstAbove = 0;
      return false;
    }
    if (this.firstAbove === 0) {
      this.firstAbove = now + this.settings.interval;
      return false;
    }
    return now >= this.firstAbove;
  }

  private law(t: number, count: number): number {
    return t + this.settings.interval / Math.sqrt(count);
  }
}

/**
 * The `maxAge` timer of one queue: armed for the instant the oldest queued value reaches `maxAge`, so an expired value
 * is dropped then (it neither holds a slot nor delays completion), and re-armed for the next oldest. One action at a
 * time, and none while the queue is empty.
 */
export class AgeTimer {
  private action: Subscription | undefined;

  constructor(
    private readonly maxAge: number,
    private readonly clock: Clock,
    private readonly scheduler: SchedulerLike,
    /**
     * The timer fired for a value due at `due`: at least that much time has passed (a timer measures waits, the wall
     * clock may have stepped back meanwhile), so `max(clock.now(), due)` is the time to judge ages by.
     */
    private readonly expire: (due: number) => void,
  ) {}

  /** Arms the timer for a queue whose oldest value arrived at `oldest`, unless it is already armed. */
  arm(oldest: number | undefined): void {
    if (this.action !== undefined || oldest === undefined) return;
    const due = oldest + this.maxAge;
    this.action = scheduleAfter(this.scheduler, due - this.clock.now(), () => {
      this.action = undefined;
      this.expire(due);
    });
  }

  /** Whether a value that arrived at `arrived` has reached `maxAge` at `now`. */
  expired(arrived: number, now: number): boolean {
    return now - arrived >= this.maxAge;
  }

  cancel(): void {
    this.action?.unsubscribe();
    this.action = undefined;
  }
}

/** The expiry strategies, as the operators that offer `maxAge` and `codel` hand them to the engine. */
export const EXPIRY = { AgeTimer, Codel };
