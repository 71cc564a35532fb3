import type { Subscriber } from 'rxjs';
import type { Lane } from './lanes.js';
import { RateRun } from './run.js';
import type { RateSettings } from './run.js';

/**
 * Mode 'latest' (never lose the final event): a value the bucket cannot pay for now is held, one per lane, replacing
 * the one held before (dropped, reason 'rate'); the held value goes out the instant the bucket can pay for its own
 * cost, so an older value never goes out after a newer one. Completion waits for it. A cost above `burst` waits for a
 * full bucket and goes through into debt, as in mode 'shape'. `capacity` and `maxWait` do not apply.
 */
export class Latest<T> extends RateRun<T> {
  constructor(settings: RateSettings<T>, destination: Subscriber<T>) {
    super(settings, destination, 1, true);
  }

  protected admit(value: T, units: number, lane: Lane<T>): void {
    const old = lane.head;
    if (old !== undefined) {
      lane.timer?.unsubscribe();
      lane.timer = undefined;
      this.shift(lane);
    }
    // the arrival is held before the one it replaces is reported, so the books balance at every report
    this.hold(lane, value, units);
    if (old !== undefined) {
      this.drop(old.value, 'rate', true);
      if (this.over) return;
    }
    this.turn(lane);
  }

  protected step(lane: Lane<T>): void {
    const head = lane.head;
    if (lane.timer !== undefined || head === undefined) return;
    if (this.pay(lane, head, this.clock.now())) this.rest(lane);
  }
}
