import { EMPTY, Observable, catchError, defer, mergeMap, of, retry, take, takeUntil, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import type { CircuitBreakerOptions } from '../../src/breaker/CircuitBreaker.js';
import { isCallTimeoutError, isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';
import { BREAKER_STATES } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';
import type { RunHelpers } from 'rxjs/testing';

/** State letters for state$ marbles. */

/** How a call ended, as a marble value: X its own error, T CallTimeoutError, R CircuitOpenError. */
function verdict(error: unknown): Observable<string> {
  if (isCircuitOpenError(error)) return of('R');
  return of(isCallTimeoutError(error) ? 'T' : 'X');
}

/** The retryAfter of each CircuitOpenError, in order. */
function retryAfters(): { seen: number[]; verdict: (error: unknown) => Observable<string> } {
  const seen: number[] = [];
  return {
    seen,
    verdict: (error) => {
      if (isCircuitOpenError(error)) seen.push(error.retryAfter);
      return verdict(error);
    },
  };
}

/** One call per request letter (as a fresh subscription to `calls[letter]`), errors drawn as verdicts. */
function perRequest(
  requests: Observable<string>,
  calls: Record<string, Observable<string>>,
  onError: (error: unknown) => Observable<string> = verdict,
): Observable<string> {
  return requests.pipe(mergeMap((k) => calls[k]!.pipe(catchError(onError))));
}

/** Runs a marble test, then the check the callback returned (for values recorded while the scheduler ran). */
function runThen(callback: (helpers: RunHelpers) => () => void): void {
  testScheduler().run(callback)();
}

describe('circuitBreak', () => {
  describe('the documented diagrams', () => {
    it('circuitBreak: per request through one shared breaker', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const failing = cold('-#');
        const calls = {
          a: failing.pipe(g),
          b: failing.pipe(g),
          c: failing.pipe(g),
          d: failing.pipe(g),
          e: cold('-(v|)').pipe(g),
        };
        const requests = hot('-a--b--c-d--e-----|');
        const expected = '    --X--X-R-R---v----|';
        const state = '       c----o----h--c----';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('CircuitBreaker: open on three failures, half-open after resetTimeout, closed by a trial', () => {
      runThen(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeout: 10 });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('#').pipe(g), r: cold('(r|)').pipe(g), o: cold('(o|)').pipe(g) };
        const open = retryAfters();
        const requests = hot('-x-x-x---r-------o-o-|');
        const expected = '    -X-X-X---R-------o-o-|';
        const state = '       c----o---------h-c---';
        expectObservable(perRequest(requests, calls, open.verdict)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        return () => expect(open.seen).toEqual([6]);
      });
    });
  });

  describe('one subscription is one call', () => {
    it('passes values, completion and the subscription through while closed', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' -a-b-c-|');
        const subs = '        ^------!';
        expectObservable(source.pipe(circuitBreak({}))).toBe('-a-b-c-|');
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('handles never, empty, one value and an upstream error', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('-').pipe(circuitBreak({}))).toBe('-');
        expectObservable(cold('|').pipe(circuitBreak({}))).toBe('|');
        expectObservable(cold('-a|').pipe(circuitBreak({}))).toBe('-a|');
        expectObservable(cold('-a#').pipe(circuitBreak({}))).toBe('-a#');
      });
    });

    it('opens when the failure threshold is exactly reached; the next call fails fast without subscribing', () => {
      runThen(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeout: 10 });
        const failing = cold('-#');
        const x = failing.pipe(circuitBreak(breaker));
        const requests = hot('-x-x-x-x---|');
        const expected = '    --X-X-XR---|';
        const state = '       c-----o---------h';
        const open = retryAfters();
        expectObservable(perRequest(requests, { x }, open.verdict)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        expectSubscriptions(failing.subscriptions).toBe(['-^!', '---^!', '-----^!']);
        // opened at 6, half-open at 16, refused at 7
        return () => expect(open.seen).toEqual([9]);
      });
    });

    it('stays closed one failure short of the threshold, and a success restarts the count', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 3 });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), s: cold('-(s|)').pipe(g) };
        const requests = hot('-x-x-s-x-x-|');
        const expected = '    --X-X-s-X-X|';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe('c', BREAKER_STATES);
      });
    });

    it('treats an error isFailure rejects as neither: forwarded, not counted, not restarting the count', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 2, isFailure: (e) => e !== 'not found' });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), n: cold('-#', {}, 'not found').pipe(g) };
        const requests = hot('-x-n-n-x-|');
        const expected = '    --X-X-X-X|';
        const state = '       c-------o';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$, '^ 30ms !').toBe(state, BREAKER_STATES);
      });
    });

    it('counts a call unsubscribed after a value as a success, and before any value as neither', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 2 });
        const g = circuitBreak<string>(breaker);
        const stream = cold('-v-v-v');
        const slow = cold('---v');
        const calls = {
          x: cold('-#').pipe(g),
          v: stream.pipe(g, take(1)), // unsubscribed after its first value: success, the count restarts
          n: slow.pipe(g, takeUntil(timer(1))), // unsubscribed before any value: neither
        };
        // x fails (1); v succeeds (0); x fails (1); n is neither (1); x fails (2): open at 10
        const requests = hot('-x-v-x-n-x---|');
        const expected = '    --X-v-X---X--|';
        const state = '       c---------o';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$, '^ 30ms !').toBe(state, BREAKER_STATES);
        expectSubscriptions(stream.subscriptions).toBe('---^!');
        expectSubscriptions(slow.subscriptions).toBe('-------^!');
      });
    });

    it('while open errors at once with CircuitOpenError carrying retryAfter, and does not subscribe upstream', () => {
      runThen(({ cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 30 });
        const failing = cold('--#');
        failing
          .pipe(
            circuitBreak(breaker),
            catchError(() => EMPTY),
          )
          .subscribe();
        const source = cold('-a|');
        const open = retryAfters();
        const later = timer(5).pipe(mergeMap(() => source.pipe(circuitBreak(breaker), catchError(open.verdict))));
        expectObservable(later).toBe('-----(R|)');
        expectSubscriptions(source.subscriptions).toBe([]);
        expectSubscriptions(failing.subscriptions).toBe('^-!');
        return () => expect(open.seen).toEqual([27]); // opened at 2, half-open at 32
      });
    });

    it('shares one breaker between all subscriptions through one circuitBreak(options) operator', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const guard = circuitBreak<string>({ failureThreshold: 2, resetTimeout: 100 });
        cold('-#')
          .pipe(
            guard,
            catchError(() => EMPTY),
          )
          .subscribe();
        cold('--#')
          .pipe(
            guard,
            catchError(() => EMPTY),
          )
          .subscribe();
        expectObservable(timer(3).pipe(mergeMap(() => cold('a|').pipe(guard, catchError(verdict))))).toBe('---(R|)');
        // another operator made from options has its own breaker
        const other = circuitBreak<string>({ failureThreshold: 2, resetTimeout: 100 });
        expectObservable(timer(3).pipe(mergeMap(() => cold('a|').pipe(other)))).toBe('---a|');
      });
    });

    it('fails a call running past callTimeout with CallTimeoutError, unsubscribes upstream, counts a failure', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, callTimeout: 3, resetTimeout: 10 });
        const slow = cold('-----(a|)');
        const requests = hot('-s---|');
        const expected = '    ----T|';
        const state = '       c---o 9ms h';
        expectObservable(perRequest(requests, { s: slow.pipe(circuitBreak(breaker)) })).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        expectSubscriptions(slow.subscriptions).toBe('-^--!');
      });
    });

    it('lets an unsubscription at exactly callTimeout happen before the timeout', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, callTimeout: 3 });
        const source = cold('-a---');
        expectObservable(source.pipe(circuitBreak(breaker)), '^--!').toBe('-a-');
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectObservable(breaker.state$).toBe('c', BREAKER_STATES); // a success (it emitted), not a timeout
      });
    });

    it('does not time out a call that ends exactly at callTimeout (only a call running longer)', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, callTimeout: 3 });
        expectObservable(cold('---(a|)').pipe(circuitBreak(breaker))).toBe('---(a|)');
        expectObservable(breaker.state$).toBe('c', BREAKER_STATES);
      });
    });
  });

  describe('rates over the sliding window', () => {
    it('does not judge the failure rate before minimumCalls, then opens at the call that reaches it', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({
          failureRateThreshold: 0.5,
          slidingWindow: { kind: 'count', size: 4 },
          minimumCalls: 4,
          resetTimeout: 20,
        });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), s: cold('-(s|)').pipe(g) };
        // three failures are 3 calls < 4: still closed; the success is call 4 and 3/4 >= 0.5: open at 8
        const requests = hot('-x-x-x-s-x-|');
        const expected = '    --X-X-X-sR-|';
        const state = '       c 7ms o 19ms h';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('forgets the oldest call of a full count window', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({
          failureRateThreshold: 0.75,
          slidingWindow: { kind: 'count', size: 4 },
          resetTimeout: 20,
        });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), s: cold('-(s|)').pipe(g) };
        // window: [x s s x] 2/4, [s s x x] 2/4, [s x x x] 3/4: open at 12 (all six calls would be 4/6 < 0.75)
        const requests = hot('-x-s-s-x-x-x-x|');
        const expected = '    --X-s-s-X-X-XR|';
        const state = '       c 11ms o 19ms h';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('expires old failures from a time window after an idle gap', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({
          failureRateThreshold: 0.5,
          slidingWindow: { kind: 'time', duration: 10 }, // 10 buckets of 1 ms: a call counts for 10 ms
          minimumCalls: 2,
          resetTimeout: 20,
        });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), s: cold('-(s|)').pipe(g) };
        // x ends at 2 and has expired by 21: s alone is below minimumCalls; x ends at 23: 1/2, open
        const requests = hot('-x 18ms s-x-|');
        const expected = '    --X 18ms s-X|';
        const state = '       c 22ms o 19ms h';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('counts a failure 9 ms old in a 10 ms time window', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({
          failureRateThreshold: 0.5,
          slidingWindow: { kind: 'time', duration: 10 },
          minimumCalls: 2,
          resetTimeout: 20,
        });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), s: cold('-(s|)').pipe(g) };
        const requests = hot('-x--------s-|');
        const expected = '    --X--------s|';
        const state = '       c 10ms o 19ms h';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('no longer counts a failure 10 ms old in a 10 ms time window', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({
          failureRateThreshold: 0.5,
          slidingWindow: { kind: 'time', duration: 10 },
          minimumCalls: 2,
        });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), s: cold('-(s|)').pipe(g) };
        const requests = hot('-x---------s-|');
        const expected = '    --X---------s|';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe('c', BREAKER_STATES);
      });
    });

    it('opens on the slow-call rate, timing each call from subscribe to its end', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({
          slowCallDuration: 3,
          slowCallRateThreshold: 0.5,
          slidingWindow: { kind: 'count', size: 2 },
          minimumCalls: 2,
          resetTimeout: 10,
        });
        const g = circuitBreak<string>(breaker);
        const calls = { q: cold('---(q|)').pipe(g), f: cold('(f|)').pipe(g), l: cold('-(l|)').pipe(g) };
        // q takes 3 ms (slow), f 0 ms: 1/2 slow, open at 5 until 15; l at 7 is refused
        const requests = hot('-q---f-l-|');
        const expected = '    ----qf-R-|';
        const state = '       c 4ms o 9ms h';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('does not count a call just under slowCallDuration as slow', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({
          slowCallDuration: 3,
          slowCallRateThreshold: 0.5,
          slidingWindow: { kind: 'count', size: 2 },
          minimumCalls: 2,
        });
        const g = circuitBreak<string>(breaker);
        const calls = { q: cold('--(q|)').pipe(g), f: cold('(f|)').pipe(g) };
        const requests = hot('-q---f-|');
        const expected = '    ---q-f-|';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe('c', BREAKER_STATES);
      });
    });

    it('ignores the consecutive rule when only a rate is given, and applies both when both are given', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const rateOnly = new CircuitBreaker({ failureRateThreshold: 1, slidingWindow: { kind: 'count', size: 10 } });
        const both = new CircuitBreaker({ failureRateThreshold: 1, failureThreshold: 5 });
        const x1 = cold('-#').pipe(circuitBreak(rateOnly));
        const x2 = cold('-#').pipe(circuitBreak(both));
        // 5 failures and a success: 5/6 < 1 for the rate; 5 consecutive for the threshold
        const s1 = cold('-(s|)').pipe(circuitBreak(rateOnly));
        const s2 = cold('-(s|)').pipe(circuitBreak(both));
        const requests = hot('-x-x-x-x-x-s-|');
        expectObservable(perRequest(requests, { x: x1, s: s1 })).toBe('--X-X-X-X-X-s|');
        expectObservable(perRequest(requests, { x: x2, s: s2 })).toBe('--X-X-X-X-XR-|');
        expectObservable(rateOnly.state$).toBe('c', BREAKER_STATES);
      });
    });
  });

  describe('half-open', () => {
    it('admits one trial call after resetTimeout; extra calls fail fast; the trial success closes', () => {
      runThen(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const trial = cold('--(t|)');
        const calls = { x: cold('-#').pipe(g), t: trial.pipe(g) };
        // x fails at 2: open until 7; t at 8 is the trial (until 10); t at 9 is refused; t at 11 finds it closed
        const requests = hot('-x------tt-t--|');
        const expected = '    --X------Rt--t|';
        const state = '       c-o----h--c';
        const open = retryAfters();
        expectObservable(perRequest(requests, calls, open.verdict)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        expectSubscriptions(trial.subscriptions).toBe(['--------^-!', '-----------^-!']);
        // no callTimeout: a refused trial waits resetTimeout
        return () => expect(open.seen).toEqual([5]);
      });
    });

    it('opens again when a trial fails, for another resetTimeout', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g) };
        const requests = hot('-x------x----x-|');
        const expected = '    --X------X---R-|';
        const state = '       c-o----h-o----h';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('closes only when all halfOpenMaxCalls trials succeed', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5, halfOpenMaxCalls: 2 });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), t: cold('-(t|)').pipe(g), u: cold('---(u|)').pipe(g) };
        // trials t (8-9) and u (9-12); v at 10 is the third: refused; closed when u ends at 12
        const requests = hot('-x------tut---|');
        const expected = '    --X------tR-u-|';
        const state = '       c-o----h----c';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });

    it('fails a hung trial call at callTimeout and opens again', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, callTimeout: 3, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const hung = cold('-');
        const calls = { x: cold('-#').pipe(g), n: hung.pipe(g), s: cold('-(s|)').pipe(g) };
        const requests = hot('-x------n--------s-|');
        const expected = '    --X--------T------s|';
        const state = '       c-o----h---o----h-c';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        expectSubscriptions(hung.subscriptions).toBe('--------^--!');
      });
    });

    it('without callTimeout, keeps a hung trial slot until that call is unsubscribed', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const hung = cold('-');
        // n is the trial from 8; it is unsubscribed before any value at 12, which frees the slot for s at 13
        const calls = {
          x: cold('-#').pipe(g),
          n: hung.pipe(g, takeUntil(timer(4))),
          y: cold('-(y|)').pipe(g),
          s: cold('-(s|)').pipe(g),
        };
        const requests = hot('-x------n-y--s-|');
        const expected = '    --X-------R---s|';
        const state = '       c-o----h------c';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        expectSubscriptions(hung.subscriptions).toBe('--------^---!');
      });
    });
  });

  describe('stale results', () => {
    it('ignores a failure from a call that started before the circuit opened and closed again', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const calls = {
          a: cold('---------#').pipe(g), // started closed at 1, fails at 10 after the circuit closed again at 9
          b: cold('-#').pipe(g),
          c: cold('-(c|)').pipe(g),
          d: cold('-(d|)').pipe(g),
        };
        const requests = hot('-ab-----c--d-|');
        const expected = '    ---X-----cX-d|';
        const state = '       c--o----hc';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$, '^ 30ms !').toBe(state, BREAKER_STATES);
      });
    });

    it('ignores a success from a call that started before the circuit opened (it is not a trial)', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const calls = { a: cold('--------(a|)').pipe(g), b: cold('-#').pipe(g) };
        const requests = hot('-ab------|');
        const expected = '    ---X-----(a|)';
        const state = '       c--o----h';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$, '^ 30ms !').toBe(state, BREAKER_STATES);
      });
    });

    it('opens once when several calls fail in the same frame, and recovers', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10 });
        const g = circuitBreak<string>(breaker);
        const failing = cold('--#');
        const calls = { x: failing.pipe(g), d: cold('-(d|)').pipe(g) };
        const requests = hot('-(xxx) 10ms d-|');
        const expected = '    ---(XXX) 9ms d|';
        const state = '       c--o 9ms h---c';
        expectObservable(perRequest(requests, calls)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        expectSubscriptions(failing.subscriptions).toBe(['-^-!', '-^-!', '-^-!']);
      });
    });
  });

  describe('manual control', () => {
    it('isolate() refuses every call with retryAfter Infinity until reset()', () => {
      runThen(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const calls = {
          i: defer(() => (breaker.isolate(), EMPTY)),
          r: defer(() => (breaker.reset(), EMPTY)),
          c: cold('-(c|)').pipe(g),
        };
        const requests = hot('--i-c-----r-c-|');
        const expected = '    ----R--------c|';
        const state = '       c-i-------c';
        const open = retryAfters();
        expectObservable(perRequest(requests, calls, open.verdict)).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
        return () => expect(open.seen).toEqual([Infinity]);
      });
    });

    it('isolate() while open cancels the step to half-open', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 5 });
        const g = circuitBreak<string>(breaker);
        const calls = { x: cold('-#').pipe(g), i: defer(() => (breaker.isolate(), EMPTY)) };
        const requests = hot('-x-i---------|');
        expectObservable(perRequest(requests, calls)).toBe('--X----------|');
        expectObservable(breaker.state$).toBe('c-oi', BREAKER_STATES);
      });
    });
  });

  describe('with retry around a long-lived stream', () => {
    it('resubscribes after retryAfter, and a trial that emitted and is unsubscribed closes the circuit', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10 });
        const failing = cold('-a-#');
        const healthy = cold('-a-b-c');
        let attempts = 0;
        const stream = defer(() => (++attempts <= 2 ? failing : healthy)).pipe(
          circuitBreak(breaker),
          retry({ delay: (e: unknown) => timer(isCircuitOpenError(e) ? e.retryAfter : 1) }),
        );
        // fails at 3 and 7 (open until 17); the retry at 8 is refused with retryAfter 9; the trial from 17 runs
        const expected = '-a---a------------a-b-c';
        const unsub = '   ^ 24ms !';
        const state = '   c------o---------h-------c';
        expectObservable(stream, unsub).toBe(expected);
        expectObservable(breaker.state$).toBe(state, BREAKER_STATES);
      });
    });
  });

  describe('plumbing', () => {
    it('supports early unsubscription (neither success nor failure)', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1 });
        const source = cold(' ---a-b-|');
        const subs = '        ^-!';
        expectObservable(source.pipe(circuitBreak(breaker)), subs).toBe('---');
        expectSubscriptions(source.subscriptions).toBe(subs);
        expectObservable(breaker.state$).toBe('c', BREAKER_STATES);
      });
    });

    it('does not break unsubscription chains through mergeMap', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const e1 = hot('  --1-2-3-4-5-|');
        const e1subs = '  ^------!';
        const expected = '--1-2-3-';
        const unsub = '   -------!';
        const result = e1.pipe(
          mergeMap((x) => of(x)),
          circuitBreak({}),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, unsub).toBe(expected);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('stops listening to a synchronous observable when unsubscribed', () => {
      const sideEffects: number[] = [];
      const synchronousObservable = new Observable<number>((subscriber) => {
        for (let i = 0; !subscriber.closed && i < 10; i++) {
          sideEffects.push(i);
          subscriber.next(i);
        }
      });
      synchronousObservable.pipe(circuitBreak({}), take(3)).subscribe();
      expect(sideEffects).toEqual([0, 1, 2]);
    });

    it('errors with what isFailure threw, counting the call as a failure', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const breaker = new CircuitBreaker({
          failureThreshold: 1,
          resetTimeout: 10,
          isFailure: () => {
            throw new Error('isFailure broke');
          },
        });
        expectObservable(cold('-#').pipe(circuitBreak(breaker))).toBe('-#', undefined, new Error('isFailure broke'));
        expectObservable(breaker.state$).toBe('co 9ms h', BREAKER_STATES);
      });
    });

    it('tells the breaker before forwarding, so a synchronous resubscription sees the new state', () => {
      const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1000 });
      const seen: string[] = [];
      let subscriptions = 0;
      defer(() => {
        subscriptions++;
        throw new Error('down');
      })
        .pipe(circuitBreak(breaker), retry(3))
        .subscribe({ error: (e: unknown) => seen.push(isCircuitOpenError(e) ? 'open' : 'other') });
      expect(subscriptions).toBe(1);
      expect(seen).toEqual(['open']);
    });
  });

  describe('options', () => {
    it.each<[string, unknown, ErrorConstructor, RegExp]>([
      ['non-object', 5, TypeError, /^circuitBreak: options must be an object, got 5$/],
      ['unknown key', { threshold: 1 }, TypeError, /^circuitBreak: unknown option "threshold"/],
      [
        'zero failureThreshold',
        { failureThreshold: 0 },
        RangeError,
        /^circuitBreak: failureThreshold must be a positive integer, got 0$/,
      ],
      [
        'fractional failureThreshold',
        { failureThreshold: 1.5 },
        RangeError,
        /failureThreshold must be a positive integer, got 1.5/,
      ],
      [
        'NaN failureThreshold',
        { failureThreshold: NaN },
        RangeError,
        /failureThreshold must be a positive integer, got NaN/,
      ],
      [
        'rate 0',
        { failureRateThreshold: 0 },
        RangeError,
        /^circuitBreak: failureRateThreshold must be a number in \(0, 1\], got 0$/,
      ],
      [
        'rate above 1',
        { failureRateThreshold: 1.1 },
        RangeError,
        /failureRateThreshold must be a number in \(0, 1\], got 1.1/,
      ],
      [
        'rate as string',
        { failureRateThreshold: '0.5' },
        TypeError,
        /failureRateThreshold must be a number in \(0, 1\], got "0.5"/,
      ],
      [
        'slow rate NaN',
        { slowCallDuration: 1, slowCallRateThreshold: NaN },
        RangeError,
        /slowCallRateThreshold must be a number in \(0, 1\], got NaN/,
      ],
      [
        'slow rate without duration',
        { slowCallRateThreshold: 0.5 },
        TypeError,
        /^circuitBreak: slowCallRateThreshold needs slowCallDuration/,
      ],
      [
        'window kind',
        { slidingWindow: { kind: 'calls', size: 3 } },
        TypeError,
        /^circuitBreak: slidingWindow.kind must be 'count' or 'time', got "calls"$/,
      ],
      [
        'window size',
        { slidingWindow: { kind: 'count', size: 0 } },
        RangeError,
        /^circuitBreak: slidingWindow.size must be a positive integer, got 0$/,
      ],
      [
        'window duration',
        { slidingWindow: { kind: 'time', duration: -1 } },
        RangeError,
        /slidingWindow.duration must be a positive finite number, got -1/,
      ],
      ['window key', { slidingWindow: { kind: 'time', duration: 5, size: 3 } }, TypeError, /unknown option "size"/],
      [
        'minimumCalls',
        { minimumCalls: 0 },
        RangeError,
        /^circuitBreak: minimumCalls must be a positive integer, got 0$/,
      ],
      [
        'minimumCalls above window',
        { failureRateThreshold: 0.5, slidingWindow: { kind: 'count', size: 5 }, minimumCalls: 6 },
        RangeError,
        /minimumCalls must be at most slidingWindow.size \(5\), got 6/,
      ],
      [
        'slowCallDuration',
        { slowCallDuration: 0 },
        RangeError,
        /slowCallDuration must be a positive finite number, got 0/,
      ],
      [
        'callTimeout',
        { callTimeout: Infinity },
        RangeError,
        /^circuitBreak: callTimeout must be a positive finite number, got Infinity$/,
      ],
      [
        'resetTimeout',
        { resetTimeout: -5 },
        RangeError,
        /^circuitBreak: resetTimeout must be a positive finite number, got -5$/,
      ],
      [
        'halfOpenMaxCalls',
        { halfOpenMaxCalls: 0 },
        RangeError,
        /^circuitBreak: halfOpenMaxCalls must be a positive integer, got 0$/,
      ],
      ['isFailure', { isFailure: true }, TypeError, /^circuitBreak: isFailure must be a function, got boolean$/],
      ['scheduler', { scheduler: {} }, TypeError, /^circuitBreak: scheduler must be a SchedulerLike/],
      ['initialState', { initialState: { state: 'open' } }, TypeError, /^circuitBreak: initialState.version must be 1/],
      [
        'initialState state',
        { initialState: { version: 1, state: 'ajar', since: 0, consecutiveFailures: 0 } },
        TypeError,
        /initialState.state must be/,
      ],
    ])('rejects %s at the factory call', (_, options, ErrorType, message) => {
      expect(() => circuitBreak(options as CircuitBreakerOptions)).toThrow(ErrorType);
      expect(() => circuitBreak(options as CircuitBreakerOptions)).toThrow(message);
    });

    it('names CircuitBreaker when the class is constructed', () => {
      expect(() => new CircuitBreaker({ failureThreshold: -1 })).toThrow(
        new RangeError('CircuitBreaker: failureThreshold must be a positive integer, got -1'),
      );
    });
  });
});
