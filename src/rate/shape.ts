import type { Subscriber } from 'rxjs';
import type { Lane } from './lanes.js';
import { RateRun } from './run.js';
import type { RateSettings } from './run.js';

/**
 * Mode 'shape': values wait FIFO, at most `capacity` per lane, until the bucket can pay for them; one timer per lane
 * while a value waits, none otherwise. A cost above `burst` waits for a full bucket and goes through into debt.
 *
 * Expiry follows the `maxWait` rule (RateRun.expires) by the instant the bucket can pay for the head, computed from
 * the bucket's arithmetic however late the timer fires: after a stalled event loop, a value that was payable in time
 * goes out (late), one that was not is dropped at once, and so are the ones behind it that cannot be paid in time.
 * A payable head waiting for credit from below does not expire: its wait is the consumer's, not the rate's.
 */
export class Shaper<T> extends RateRun<T> {
  constructor(settings: RateSettings<T>, destination: Subscriber<T>) {
    super(settings, destination, settings.capacity, true);
  }

  protected admit(value: T, units: number, lane: Lane<T>): void {
    if (lane.head === undefined) {
      this.hold(lane, value, units);
      this.turn(lane);
    } else if (this.size(lane) >= this.settings.capacity) {
      this.drop(value, 'overflow', false);
    } else {
      this.hold(lane, value, units);
    }
  }

  protected step(lane: Lane<T>): void {
    const bucket = lane.bucket!;
    for (let head = lane.head; head !== undefined && !this.over; head = lane.head) {
      if (lane.timer !== undefined) return;
      const now = this.clock.now();
      // a head known to be payable (its payment timer fired, or it waits for credit) is not judged again
      if (!lane.paying && this.expire(lane, head, bucket.dueAt(bucket.need(head.units)), now)) continue;
      if (!this.pay(lane, head, now)) return;
    }
    this.rest(lane);
  }
}
