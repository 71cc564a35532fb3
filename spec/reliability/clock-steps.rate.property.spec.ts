/**
 * The rate wing under a wall clock that steps back and forward at random (issue 15 item 5), as `asyncScheduler.now()`
 * does on an NTP correction or a VM resume while timers keep running on a monotonic clock: throttleTokenBucket in
 * every mode, without and with a memoryTokenBucketStore. Each run is made twice on the same events: once with the
 * steps, once on a clock without them (the plain run), and the two are compared in timer time (what really passed).
 *
 * What a step can do, and the bounds checked (unit costs, so tokens are values):
 * - A step back neither adds nor removes tokens: the reading stands still at the last reading before it. What is
 *   lost is the time between that reading and the first one after the step, which cannot be told from a standstill
 *   (x/time/rate's limiter loses it too), or, for a step shorter than that span, the step's length: at most
 *   min(burst, rate x min(span, step) / per) tokens per step back. So in mode 'drop' the plain run emits at most
 *   that many more values (plus one for a fraction), and steps back alone never let the stepped run emit more. In
 *   mode 'error' the stream ends at the first refusal: steps back alone can only end it sooner, steps forward alone
 *   only later.
 * - A step forward counts as time that passed: the bucket refills, at most `burst` tokens per step (and no more than
 *   the step's length pays for): `made`. In timer time no window of length L sees more than
 *   burst + rate x L / per + made values (every mode), and in mode 'drop' the stepped run emits at most made more.
 * - Waits: a timer that fires pays what it was armed for whatever the clock reads, so in 'shape' and 'latest' no
 *   value goes out later than in the plain run by more than the spans lost to steps back (one read interval each,
 *   at most) and one token period for each token (rounded up) the steps forward made: such a token may go to a
 *   value the plain run dropped or replaced (a value due a hair earlier is out before the next arrival replaces
 *   it), and the values after it wait for the next token. With `maxWait`, no value waits longer than `maxWait`
 *   plus the spans lost to steps back. (A step forward makes values expire sooner; that counts as time passed.)
 *
 * The spans are measured, not guessed: every clock reading of the operator is logged with the skew it saw, and a
 * step shows between two consecutive readings as a change of skew.
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { memoryTokenBucketStore, throttleTokenBucket } from '../../src/index.js';
import type { ThrottleMode, ThrottleTokenBucketOptions } from '../../src/index.js';
import { SteppingClock } from '../rate/schedulers.js';
import { propertyRuns } from '../contract/registry.js';

const HOUR = 3_600_000;
/** Rounding slack in ms: the readings of a stepped clock are hours from 0, where a double resolves ~1e-9 ms. */
const EPS = 1e-6;

type Event = { dt: number; step: number } | { dt: number; value: true };

interface Outcome {
  /** Timer time each value went out, by index (undefined: dropped, or not out). */
  out: (number | undefined)[];
  arrived: number[];
  /** The stepped run's readings: timer time and the skew each saw. */
  reads: [number, number][];
}

function run(options: ThrottleTokenBucketOptions<number>, events: Event[], stepped: boolean, store: boolean): Outcome {
  const clock = new SteppingClock();
  const reads: [number, number][] = [];
  const scheduler: SchedulerLike = {
    now: () => {
      reads.push([clock.frame, clock.skew]);
      return clock.now();
    },
    schedule: clock.schedule.bind(clock) as SchedulerLike['schedule'],
  };
  const out: (number | undefined)[] = [];
  const arrived: number[] = [];
  const source = new Subject<number>();
  source
    .pipe(throttleTokenBucket({ ...options, scheduler, ...(store ? { store: memoryTokenBucketStore() } : {}) }))
    .subscribe({ next: (i) => (out[i] = clock.frame), error: () => undefined });
  let t = 0;
  for (const e of events) {
    t += e.dt;
    clock.schedule(() => {
      if ('step' in e) {
        if (stepped) clock.skew += e.step;
      } else {
        arrived.push(clock.frame);
        source.next(arrived.length - 1);
      }
    }, t);
  }
  clock.schedule(() => source.complete(), t + 1);
  clock.advance(t + 100_000);
  return { out, arrived, reads };
}

/** Per read interval with a change of skew: steps back (the span that stood still), steps forward (their length). */
function stepsSeen(reads: [number, number][]): { back: number[]; forward: number[] } {
  const back: number[] = [];
  const forward: number[] = [];
  for (let i = 1; i < reads.length; i++) {
    const delta = reads[i]![1] - reads[i - 1]![1];
    // a step back stands the clock still for the span (or, shorter than it, just slows it by its length)
    if (delta < 0) back.push(Math.min(-delta, reads[i]![0] - reads[i - 1]![0]));
    if (delta > 0) forward.push(delta);
  }
  return { back, forward };
}

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ dt: fc.integer({ min: 0, max: 30 }), value: fc.constant(true as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      dt: fc.integer({ min: 0, max: 30 }),
      step: fc.oneof(fc.integer({ min: -HOUR, max: HOUR }), fc.integer({ min: -50, max: 50 })),
    }),
  },
);

describe('throttleTokenBucket under a stepping wall clock', () => {
  for (const store of [false, true]) {
    for (const mode of ['drop', 'error', 'shape', 'latest'] as ThrottleMode[]) {
      if (store && mode === 'latest') continue; // covered without a store; the store path waits the same way
      it(`mode '${mode}'${store ? ' with a memoryTokenBucketStore' : ''}: no tokens made or lost by a step beyond its bound, no wait beyond its bound`, () => {
        fc.assert(
          fc.property(
            fc.record({
              rate: fc.integer({ min: 1, max: 3 }),
              per: fc.integer({ min: 5, max: 40 }),
              burst: fc.integer({ min: 1, max: 4 }),
              maxWait: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
              events: fc.array(eventArb, { maxLength: 60 }),
            }),
            ({ rate, per, burst, maxWait, events }) => {
              const options: ThrottleTokenBucketOptions<number> = {
                rate,
                per,
                burst,
                mode,
                capacity: 1000,
                ...(mode === 'shape' && maxWait !== undefined ? { maxWait } : {}),
              };
              const plain = run(options, events, false, store);
              const stepped = run(options, events, true, store);
              const { back, forward } = stepsSeen(stepped.reads);
              const made = forward.reduce((sum, by) => sum + Math.min(burst, (rate * by) / per), 0);
              const lost = back.reduce((sum, span) => sum + Math.min(burst, (rate * span) / per), 0);
              const stood = back.reduce((sum, span) => sum + span, 0);
              const early = forward.reduce(
                (sum, by) => sum + (Math.ceil(Math.min(burst, (rate * by) / per)) * per) / rate,
                0,
              );
              const count = (o: Outcome): number => o.out.filter((t) => t !== undefined).length;

              // no tokens made but by steps forward: in timer time, any window of length L holds at most
              // burst + rate * L / per emissions, plus what the steps forward refilled
              const times = stepped.out.filter((t): t is number => t !== undefined).sort((a, b) => a - b);
              for (let i = 0; i < times.length; i++) {
                for (let j = i; j < times.length; j++) {
                  expect(j - i + 1).toBeLessThanOrEqual(burst + (rate * (times[j]! - times[i]!)) / per + made + EPS);
                }
              }
              if (mode === 'drop') {
                // nor lost, beyond what the steps back stood still for
                expect(count(stepped)).toBeLessThanOrEqual(count(plain) + Math.ceil(made) + 1);
                expect(count(plain)).toBeLessThanOrEqual(count(stepped) + Math.ceil(lost) + 1);
                if (forward.length === 0) expect(count(stepped)).toBeLessThanOrEqual(count(plain));
              }
              if (mode === 'error') {
                // the stream ends at the first refusal: steps back only can end it sooner, steps forward only later
                if (forward.length === 0) expect(count(stepped)).toBeLessThanOrEqual(count(plain));
                if (back.length === 0) expect(count(plain)).toBeLessThanOrEqual(count(stepped));
              }
              if (mode === 'shape' || mode === 'latest') {
                // no value later than in the plain run by more than the spans that stood still, and the tokens the
                // steps forward made (spent on values the plain run dropped or replaced, they delay the ones after)
                stepped.out.forEach((t, i) => {
                  const p = plain.out[i];
                  if (t !== undefined && p !== undefined) expect(t).toBeLessThanOrEqual(p + stood + early + EPS);
                });
                if (options.maxWait !== undefined) {
                  stepped.out.forEach((t, i) => {
                    if (t !== undefined)
                      expect(t - stepped.arrived[i]!).toBeLessThanOrEqual(options.maxWait! + stood + EPS);
                  });
                }
              }
            },
          ),
          { numRuns: propertyRuns(200) },
        );
      });
    }
  }
});
