import { scheduleAfter } from '../internal/clock.js';
import type { Subscriber } from 'rxjs';
import type { Lane } from './lanes.js';
import { RateRun } from './run.js';
import type { RateSettings } from './run.js';

/**
 * Modes 'drop' and 'error': each value is decided on arrival, paid for and emitted at once or refused. Nothing is held,
 * so the run is pass-through for the credit link.
 *
 * The drop-mode gate: the first value found unpayable arms the lane's one timer for the instant the bucket will hold
 * its cost; until it fires, every value costing at least as much is dropped without reading the clock (none can be
 * paid for before then). In real time the gate opens when the scheduler runs the timer, as `throttleTime`'s does.
 */
export class Limiter<T> extends RateRun<T> {
  constructor(settings: RateSettings<T>, destination: Subscriber<T>) {
    super(settings, destination, 0, true);
  }

  protected admit(value: T, units: number, lane: Lane<T>): void {
    const bucket = lane.bucket!;
    if (units > bucket.size) {
      this.refuse(value, Infinity, false);
      return;
    }
    if (lane.timer !== undefined && units >= lane.below) {
      this.drop(value, 'rate', false);
      return;
    }
    const level = bucket.level(this.clock.now());
    if (bucket.affords(units, level)) {
      bucket.take(units);
      this.rest(lane);
      this.recorder?.emitted(0, false);
      this.destination.next(value);
      return;
    }
    const wait = bucket.waitFor(units, level);
    if (this.settings.mode === 'drop' && lane.timer === undefined) {
      lane.below = units;
      lane.timer = scheduleAfter(this.scheduler, wait, () => (lane.timer = undefined));
    }
    this.refuse(value, wait, false);
  }

  protected step(): void {}
}
