/**
 * The resilience wing under a wall clock that steps back and forward at random (issue 15 item 5), as
 * `asyncScheduler.now()` does on an NTP correction or a VM resume while timers keep running on a monotonic clock.
 *
 * Laws, in timer time (what has really passed):
 * - no call is timed out before `callTimeout`, nor after it: a call's timeout is its own timer;
 * - no breaker stays open longer than `resetTimeout`, plus, when nobody watches `state$` (no timer, only clock
 *   readings), one interval between readings for each step back seen while it was open; a refusal never tells a
 *   `retryAfter` outside [0, resetTimeout];
 * - `retryAfter` waits exactly the delay it chose, steps or not.
 */
import fc from 'fast-check';
import { NEVER, defer, of, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import { isCallTimeoutError, isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';
import { retryAfter } from '../../src/operators/retryAfter.js';
import { SteppingClock, schedulerOf } from '../breaker/clocks.js';
import { propertyRuns } from '../contract/registry.js';

const HOUR = 3_600_000;
/** Longest timer time between two events (and so between two clock readings). */
const GAP = 50;

type Action =
  { kind: 'fail' } | { kind: 'succeed' } | { kind: 'hang' } | { kind: 'probe' } | { kind: 'step'; by: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ kind: 'fail' }),
  fc.constant<Action>({ kind: 'succeed' }),
  fc.constant<Action>({ kind: 'hang' }),
  fc.constant<Action>({ kind: 'probe' }),
  fc.integer({ min: -HOUR, max: HOUR }).map<Action>((by) => ({ kind: 'step', by })),
);

const runArb = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 3 }),
  resetTimeout: fc.integer({ min: 10, max: 400 }),
  callTimeout: fc.integer({ min: 10, max: 400 }),
  watched: fc.boolean(),
  events: fc.array(fc.record({ dt: fc.integer({ min: 0, max: GAP }), action: actionArb }), { maxLength: 80 }),
});

describe('the breaker under a stepping wall clock', () => {
  it('times calls out at callTimeout of timer time and holds no breaker open beyond its bound', () => {
    fc.assert(
      fc.property(runArb, ({ failureThreshold, resetTimeout, callTimeout, watched, events }) => {
        const clock = new SteppingClock();
        const breaker = new CircuitBreaker({
          failureThreshold,
          resetTimeout,
          callTimeout,
          scheduler: schedulerOf(clock),
        });
        const guard = circuitBreak<number>(breaker);
        const transitions: Array<[number, string]> = [];
        /** Broken laws (collected: an expect inside a subscriber callback would be reported asynchronously by rxjs). */
        const broken: string[] = [];
        const check = (ok: boolean, law: string): void => void (ok || broken.push(`${law} at ${clock.timerTime}`));
        if (watched) breaker.state$.subscribe((s) => transitions.push([clock.timerTime, s]));

        /** The open episode the probes see: since when (timer time), and the steps back seen during it. */
        let episode: { since: number; backSteps: number } | undefined;
        const bound = (): number => resetTimeout + (watched ? 0 : episode!.backSteps * GAP);
        const probe = (): void => {
          const open = breaker.state === 'open';
          const now = clock.timerTime;
          if (!open) {
            episode = undefined;
            return;
          }
          episode ??= { since: now, backSteps: 0 };
          check(now - episode.since <= bound(), `open since ${episode.since}, longer than its bound ${bound()}`);
        };
        const refusal = (error: unknown): void => {
          if (!isCircuitOpenError(error)) return;
          // open: the rest of resetTimeout; half-open with its trial taken: callTimeout (documented)
          const most = Math.max(resetTimeout, callTimeout);
          check(error.retryAfter >= 0 && error.retryAfter <= most, `retryAfter ${error.retryAfter}`);
        };
        /** Starts a call; a call let through while an episode is open ends the episode (it went half-open). */
        const start = (source: Observable<number>): boolean => {
          let refused = false;
          const startedAt = clock.timerTime;
          const before = episode;
          source.pipe(guard).subscribe({
            error: (e: unknown) => {
              if (isCircuitOpenError(e) && clock.timerTime === startedAt) refused = true;
              refusal(e);
              if (isCallTimeoutError(e)) {
                check(clock.timerTime - startedAt === callTimeout, `call from ${startedAt} timed out off callTimeout`);
                probe();
              }
            },
          });
          // let through while an episode was open: it went half-open in between (probes check the bound while open)
          if (!refused && before !== undefined) episode = undefined;
          return refused;
        };

        for (const { dt, action } of events) {
          clock.advance(dt);
          switch (action.kind) {
            case 'fail':
              start(throwError(() => new Error('down')));
              break;
            case 'succeed':
              start(of(1));
              break;
            case 'hang':
              start(NEVER);
              break;
            case 'step':
              clock.step(action.by);
              if (action.by < 0 && episode !== undefined) episode.backSteps++;
              break;
            case 'probe':
              break;
          }
          probe();
        }
        // Nothing stays open for good: past the bound, with every hanging call timed out, it is no longer open.
        clock.advance(callTimeout);
        probe();
        clock.advance(resetTimeout);
        probe();
        transitions.forEach(([at, state], i) => {
          const next = transitions[i + 1];
          if (state === 'open' && next !== undefined) {
            check(next[0] - at <= resetTimeout, `watched: open from ${at} to ${next[0]}`);
          }
        });
        expect(broken).toEqual([]);
      }),
      { numRuns: propertyRuns(400) },
    );
  });

  it('retryAfter waits exactly the delay it chose, whatever the wall clock does meanwhile', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 30_000 }), by: fc.integer({ min: -HOUR, max: HOUR }) })),
        (seconds, steps) => {
          const clock = new SteppingClock();
          for (const { at, by } of steps) clock.schedule(() => clock.step(by), at);
          const attempts: number[] = [];
          let attempt = 0;
          const request = defer(() => {
            attempts.push(clock.timerTime);
            const s = seconds[attempt++];
            return of(
              s === undefined ? { status: 200 } : { status: 503, headers: new Headers({ 'Retry-After': `${s}` }) },
            );
          });
          request
            .pipe(retryAfter({ maxAttempts: seconds.length + 1, jitter: 0, scheduler: schedulerOf(clock) }))
            .subscribe();
          clock.advance(40_000);
          const expected = [0];
          for (const s of seconds) expected.push(expected[expected.length - 1]! + s * 1000);
          expect(attempts).toEqual(expected);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
  });
});
