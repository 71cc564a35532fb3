import type { Subscriber } from 'rxjs';
import { describe } from '../internal/format.js';
import { reportUnhandled } from '../internal/ledger.js';
import type { Held, Lane } from './lanes.js';
import { RateRun } from './run.js';
import type { RateSettings } from './run.js';
import type { TokenBucketStore, TokenGrant } from './protocol.js';

/**
 * Any mode, with a `store`: the tokens live in the store, and each lane (one per key) asks it for one value at a
 * time, in arrival order, while later arrivals wait in line (at most `capacity` per lane, beyond that `'overflow'`).
 * A synchronous answer (or a thenable that settles at once) is acted on in the same instant; a promise keeps the
 * line waiting until it settles. At most as many asks are in flight as there is credit below, so a granted value can
 * always be emitted at once.
 *
 * Refused, a value is dropped (`'drop'`), errors the stream (`'error'`), or asks again after the store's `retryAfter`
 * (`'shape'`; `'latest'` too, unless a newer value waits behind it: then it is dropped `'rate'`). The `maxWait` rule
 * is the one of every mode (RateRun.expires), judged by what the store said: a value is asked when it reaches the
 * head of its line, and expires if it is still unasked past its `maxWait`, or if the store's `retryAfter` is beyond
 * it; a value the store said was payable in time is asked again when its timer fires, however late.
 */
export class StoreRun<T> extends RateRun<T> {
  /** Asks in flight: each holds one credit from below. */
  private asking = 0;

  constructor(
    settings: RateSettings<T>,
    destination: Subscriber<T>,
    private readonly store: TokenBucketStore,
  ) {
    super(settings, destination, settings.capacity, false);
  }

  protected admit(value: T, units: number, lane: Lane<T>): void {
    const { mode, burst, per, capacity } = this.settings;
    if ((mode === 'drop' || mode === 'error') && units > burst * per) {
      this.refuse(value, Infinity, false); // never payable: the store is not asked
      return;
    }
    let stale: Held<T> | undefined;
    if (mode === 'latest' && lane.head !== undefined) {
      // A newer value replaces the one waiting: the head, unless its answer is awaited (then the one behind it).
      if (!lane.asking) {
        lane.timer?.unsubscribe();
        lane.timer = undefined;
        stale = this.shift(lane);
      } else if (lane.line.length > 0) {
        stale = lane.line.pop();
        this.held--;
      }
    } else if (this.size(lane) >= capacity) {
      this.drop(value, 'overflow', false);
      return;
    }
    this.hold(lane, value, units);
    if (stale !== undefined) {
      this.drop(stale.value, 'rate', true);
      if (this.over) return;
    }
    if (this.size(lane) === 1) this.turn(lane);
  }

  protected step(lane: Lane<T>): void {
    for (let head = lane.head; head !== undefined && !this.over; head = lane.head) {
      if (lane.timer !== undefined || lane.asking) return;
      const now = this.clock.now();
      if (!lane.paying) {
        // paying: the store said it can be paid now and its timer fired (the timer, not a reading, is the authority)
        const payable = lane.payable > now ? lane.payable : now;
        if (this.expire(lane, head, payable, now)) continue;
        if (payable > now) {
          this.arm(lane, payable - now, true);
          return;
        }
      }
      if (this.credit - this.asking <= 0) {
        this.starve(lane);
        return;
      }
      this.ask(lane, head, now);
    }
    this.rest(lane);
  }

  /** An evicted lane's ask no longer holds credit (its answer will be ignored). */
  protected override evict(lane: Lane<T>): void {
    if (lane.asking) {
      lane.asking = false;
      this.asking--;
    }
    super.evict(lane);
  }

  /** Asks the store for `head`; the answer (now, or when it settles) serves the lane again. */
  private ask(lane: Lane<T>, head: Held<T>, now: number): void {
    const { rate, per, burst, key } = this.settings;
    lane.asking = true;
    lane.paying = false;
    this.asking++;
    const settle = (act: () => void): void => {
      if (!lane.asking || lane.head !== head || this.over) return; // torn down, evicted, or settled before
      lane.asking = false;
      this.asking--;
      try {
        act();
      } catch (error) {
        // from a promise callback: into the stream, never an unhandled rejection
        if (this.over) reportUnhandled(error);
        else this.fail(error);
      }
      this.turn(lane);
      this.credited(); // the credit this ask held may let a starved lane ask
    };
    let answer: TokenGrant | PromiseLike<TokenGrant>;
    try {
      answer = this.store.take({ tokens: head.units / per, rate, per, burst, now, key: key && lane.key });
    } catch (error) {
      settle(() => this.fail(error));
      return;
    }
    if (typeof (answer as PromiseLike<TokenGrant> | null)?.then === 'function') {
      (answer as PromiseLike<TokenGrant>).then(
        (grant) => settle(() => this.decide(lane, head, grant)),
        (error: unknown) => settle(() => this.fail(error)),
      );
    } else {
      settle(() => this.decide(lane, head, answer as TokenGrant));
    }
  }

  /** Acts on the store's answer for `head`: emit it, drop it, error, or wait to ask again. */
  private decide(lane: Lane<T>, head: Held<T>, grant: TokenGrant): void {
    const { mode } = this.settings;
    const waits = mode === 'shape' || mode === 'latest';
    const answer = grant as { granted?: unknown; retryAfter?: unknown } | null;
    const retryAfter = typeof answer === 'object' && answer !== null ? answer.retryAfter : undefined;
    if (
      typeof answer !== 'object' ||
      answer === null ||
      (answer.granted !== true &&
        !(
          answer.granted === false &&
          typeof retryAfter === 'number' &&
          retryAfter > 0 &&
          (!waits || retryAfter < Infinity)
        ))
    ) {
      this.fail(
        new TypeError(
          `${this.operator}: store.take must answer { granted: true } or { granted: false, retryAfter } with ` +
            `retryAfter > 0 ms (finite in modes 'shape' and 'latest'), got ${answerOf(grant)}`,
        ),
      );
      return;
    }
    if (answer.granted === true) {
      this.shift(lane);
      this.deliver(head.value, this.timed ? this.clock.now() - head.at : 0);
    } else if (!waits) {
      if (mode === 'drop') this.shift(lane);
      this.refuse(head.value, retryAfter as number, true);
    } else if (mode === 'latest' && this.size(lane) > 1) {
      this.shift(lane);
      this.drop(head.value, 'rate', true);
    } else {
      // at least one step of the clock's resolution later: a retryAfter that does not move `now` (a rounding
      // error of a bucket far from time 0) would be asked again at once, forever
      const now = this.clock.now();
      const payable = now + (retryAfter as number);
      lane.payable = payable > now ? payable : now + Math.abs(now) * 2 ** -50 + Number.MIN_VALUE;
    }
  }
}

/** A store's answer for a message: never throws (a BigInt, a cycle, a throwing getter are all described). */
function answerOf(grant: unknown): string {
  if (typeof grant !== 'object' || grant === null) return describe(grant);
  try {
    const { granted, retryAfter } = grant as Record<string, unknown>;
    const shown = typeof granted === 'boolean' ? granted : describe(granted);
    return `{ granted: ${shown}, retryAfter: ${describe(retryAfter)} }`;
  } catch {
    return describe(grant);
  }
}
