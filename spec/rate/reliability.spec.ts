/**
 * Issue 15 on the rate wing: each defect found under hostile use, with a spec that failed before the fix.
 *
 * 1 callback / sync store results that String() cannot convert; 2 async store answers JSON.stringify cannot
 * serialise; 3 maxWait under a late timer; 5 a clock that steps back (x/time/rate's TestLimiterJumpBackwards as the
 * oracle); 6 delays above 2^31 - 1 ms; 7 a thenable that settles synchronously; 9 values re-sent from onDrop while
 * the operator is failing.
 */
import { Subject, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueueMetrics, memoryTokenBucketStore, throttleTokenBucket, tokenBucketStore } from '../../src/index.js';
import type { Dropped, ThrottleMode, ThrottleTokenBucketOptions, TokenGrant, TokenRequest } from '../../src/index.js';
import { MAX_DELAY } from '../../src/internal/clock.js';
import { Clock } from '../contract/registry.js';
import { testScheduler } from '../helpers/marbles.js';
import { RecordingScheduler, SteppingClock, stalled } from './schedulers.js';

/** Runs `values` through `operator` synchronously; what came out, what was dropped, how it ended. */
function runSync<T>(values: T[], options: ThrottleTokenBucketOptions<T>) {
  const out: T[] = [];
  const drops: string[] = [];
  let end: unknown = 'open';
  const source = new Subject<T>();
  source
    .pipe(throttleTokenBucket({ ...options, onDrop: (d: Dropped<T>) => drops.push(`${String(d.value)}:${d.reason}`) }))
    .subscribe({ next: (v) => out.push(v), error: (e: unknown) => (end = e), complete: () => (end = 'complete') });
  for (const v of values) source.next(v);
  return { out, drops, end: () => end, source };
}

const hostile: [string, () => unknown][] = [
  ['Object.create(null)', () => Object.create(null)],
  ['an object whose toString throws', () => ({ toString: () => { throw new Error('no'); } })], // prettier-ignore
  ['a BigInt', () => 10n],
];

describe('issue 15 on the rate wing', () => {
  describe('1: a cost result String() cannot convert errors the stream, nothing lost', () => {
    for (const [name, make] of hostile) {
      it.each(['shape', 'drop', 'error', 'latest'] as ThrottleMode[])(`mode %s, cost returns ${name}`, (mode) => {
        const metrics = new QueueMetrics();
        // burst 1 and a frozen clock: in 'shape' and 'latest' b is held when c arrives with the hostile cost, in 'drop'
        // b is dropped; in 'error' b would end the stream, so only a and c are sent.
        const values = mode === 'error' ? ['a', 'c'] : ['a', 'b', 'c'];
        const { out, drops, end } = runSync(values, {
          rate: 1,
          mode,
          metrics,
          scheduler: new Clock(),
          cost: (v) => (v === 'c' ? (make() as number) : 1),
        });
        expect(out).toEqual(['a']);
        const error = end() as Error;
        expect(error).toBeInstanceOf(RangeError);
        expect(error.message).toMatch(
          /^throttleTokenBucket: cost must return a finite number >= 0, got (an object|10n)$/,
        );
        const before = { shape: ['b:error'], latest: ['b:error'], drop: ['b:rate'], error: [] }[mode];
        expect(drops).toEqual([...before, 'c:error']);
        expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
        expect(metrics.depth).toBe(0);
      });
    }

    it.each([
      ['Object.create(null)', () => Object.create(null), 'got { granted: undefined, retryAfter: undefined }'],
      ['retryAfter: 10n', () => ({ granted: false, retryAfter: 10n }), 'got { granted: false, retryAfter: 10n }'],
    ])('a synchronous store answering %s: TypeError, the value reported', (_name, answer, quoted) => {
      const store = tokenBucketStore({ take: () => answer() as TokenGrant });
      const { out, drops, end } = runSync(['a'], { rate: 1, store, scheduler: new Clock() });
      expect(out).toEqual([]);
      expect(end()).toBeInstanceOf(TypeError);
      expect((end() as Error).message).toContain('store.take must answer');
      expect((end() as Error).message).toContain(quoted);
      expect(drops).toEqual(['a:error']);
    });
  });

  describe('2: an async store answer JSON.stringify cannot serialise errors the stream (no unhandled rejection)', () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    beforeEach(() => {
      rejections.length = 0;
      process.on('unhandledRejection', onRejection);
    });
    afterEach(() => void process.off('unhandledRejection', onRejection));

    const circular: Record<string, unknown> = { granted: false };
    circular['self'] = circular;
    circular['retryAfter'] = circular;
    it.each([
      ['retryAfter: 10n', { granted: false, retryAfter: 10n }, 'got { granted: false, retryAfter: 10n }'],
      ['a circular answer', circular, 'got { granted: false, retryAfter: an object }'],
    ])('%s', async (_name, answer, quoted) => {
      const store = tokenBucketStore({ take: () => Promise.resolve(answer as unknown as TokenGrant) });
      const { drops, end } = runSync(['a', 'b'], { rate: 1, store, scheduler: new Clock() });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(end()).toBeInstanceOf(TypeError);
      expect((end() as Error).message).toContain(quoted);
      expect(drops).toEqual(['a:error', 'b:error']);
      expect(rejections).toEqual([]);
    });
  });

  describe('3: maxWait is decided by when each value became payable, not by which timer fired', () => {
    // rate 10 per second (a token every 100 ms), burst 1; a, b, c arrive at 0; the event loop is busy until 200.
    function lagged(maxWait: number) {
      const clock = new Clock();
      const emitted: string[] = [];
      const dropped: string[] = [];
      const source = new Subject<string>();
      source
        .pipe(
          throttleTokenBucket({
            rate: 10,
            burst: 1,
            maxWait,
            scheduler: stalled(clock, 200),
            onDrop: (d) => dropped.push(`${d.value}:${d.reason}@${clock.now()}`),
          }),
        )
        .subscribe((v) => emitted.push(`${v}@${clock.now()}`));
      for (const v of ['a', 'b', 'c']) source.next(v);
      clock.advance(1000);
      return { emitted, dropped };
    }

    it('maxWait 20: b was payable only at 100, so it is dropped (when the loop frees up at 200), and so is c', () => {
      const { emitted, dropped } = lagged(20);
      expect(emitted).toEqual(['a@0']);
      expect(dropped).toEqual(['b:expired@200', 'c:expired@200']);
    });

    it('maxWait 150: b was payable at 100, in time: it goes out late; c cannot be paid before 300: dropped', () => {
      const { emitted, dropped } = lagged(150);
      expect(emitted).toEqual(['a@0', 'b@200']);
      expect(dropped).toEqual(['c:expired@200']);
    });

    it('without lag the same bounds hold on time (maxWait 150: b at 100, c dropped at 150)', () => {
      const clock = new Clock();
      const emitted: string[] = [];
      const dropped: string[] = [];
      const source = new Subject<string>();
      source
        .pipe(
          throttleTokenBucket({
            rate: 10,
            maxWait: 150,
            scheduler: clock,
            onDrop: (d) => dropped.push(`${d.value}:${d.reason}@${clock.now()}`),
          }),
        )
        .subscribe((v) => emitted.push(`${v}@${clock.now()}`));
      for (const v of ['a', 'b', 'c']) source.next(v);
      clock.advance(1000);
      expect(emitted).toEqual(['a@0', 'b@100']);
      expect(dropped).toEqual(['c:expired@150']);
    });

    it('the maxWait tie is the same with a store: payable exactly maxWait after arrival is emitted', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -(ab)|');
        const options = { rate: 1, per: 10, maxWait: 10, store: memoryTokenBucketStore() };
        // b arrives at 1 and is payable at 11 = 1 + maxWait: emitted (it used to be dropped 'expired' with a store)
        expectObservable(source.pipe(throttleTokenBucket(options))).toBe('-a 9ms (b|)');
      });
    });
  });

  describe('5: a clock that steps back neither adds nor removes tokens', () => {
    // golang.org/x/time/rate TestLimiterJumpBackwards: NewLimiter(10, 3); t0 = now, t1 = t0 + 100ms, t2 = t0 + 200ms.
    const oracle: [number, boolean][] = [
      [100, true], // start at t1
      [0, true], // jump back to t0, two tokens remain
      [0, true],
      [0, false],
      [0, false],
      [100, true], // got a token
      [100, false],
      [100, false],
      [200, true], // got another token
      [200, false],
      [200, false],
    ];

    it('memoryTokenBucketStore answers as x/time/rate does', () => {
      const store = memoryTokenBucketStore();
      const answers = oracle.map(
        ([now]) => store.take({ tokens: 1, rate: 10, per: 1000, burst: 3, now }) as TokenGrant,
      );
      expect(answers.map((a) => a.granted)).toEqual(oracle.map(([, ok]) => ok));
    });

    it("mode 'drop' answers as x/time/rate does (the wall clock read 100, 0, ... while timers run on)", () => {
      // Virtual (monotonic) time moves 0, 0, ..., 101, ..., 201; the wall clock reads t1 first, then jumps back to t0.
      // The reads 101 and 201 (not 100 and 200) keep each arrival clear of the gate timer due in the same instant.
      const clock = new SteppingClock();
      const decided: boolean[] = [];
      const source = new Subject<number>();
      source
        .pipe(
          throttleTokenBucket({
            rate: 10,
            burst: 3,
            mode: 'drop',
            scheduler: clock,
            onDrop: () => decided.push(false),
          }),
        )
        .subscribe(() => decided.push(true));
      clock.skew = 100;
      source.next(0);
      clock.skew = 0;
      for (let i = 0; i < 4; i++) source.next(0);
      clock.advance(101);
      for (let i = 0; i < 3; i++) source.next(0);
      clock.advance(100);
      for (let i = 0; i < 3; i++) source.next(0);
      expect(decided).toEqual(oracle.map(([, ok]) => ok));
    });

    it("mode 'shape': a step back of an hour while a value waits does not make it wait an hour", () => {
      const clock = new SteppingClock();
      const emitted: string[] = [];
      const source = new Subject<string>();
      source
        .pipe(throttleTokenBucket({ rate: 1, per: 10, scheduler: clock }))
        .subscribe((v) => emitted.push(`${v}@${clock.frame}`));
      source.next('a');
      source.next('b');
      clock.advance(5);
      clock.skew = -3_600_000;
      source.next('c');
      clock.advance(100);
      expect(emitted).toEqual(['a@0', 'b@10', 'c@20']);
    });

    it("mode 'drop': after a step back of an hour values still pass at the rate", () => {
      const clock = new SteppingClock();
      const times: number[] = [];
      const source = new Subject<number>();
      source
        .pipe(throttleTokenBucket({ rate: 1, per: 10, mode: 'drop', scheduler: clock }))
        .subscribe(() => times.push(clock.frame));
      for (let t = 0; t <= 100; t += 10) {
        if (t === 50) clock.skew = -3_600_000;
        source.next(t);
        clock.advance(10);
      }
      // the interval in which the step happened (40..50) counts as none: the token due at 50 comes at 60
      expect(times).toEqual([0, 10, 20, 30, 40, 60, 70, 80, 90, 100]);
    });
  });

  describe('6: delays above 2^31 - 1 ms are timed in steps, never handed to a timer', () => {
    const DAY = 86_400_000;
    it("a monthly quota in mode 'shape': the second value goes out after 30 days, every timer within MAX_DELAY", () => {
      const scheduler = new RecordingScheduler();
      const emitted: number[] = [];
      of('a', 'b')
        .pipe(throttleTokenBucket({ rate: 1, per: 30 * DAY, scheduler }))
        .subscribe(() => emitted.push(scheduler.now()));
      scheduler.runUntil(60 * DAY);
      expect(emitted).toEqual([0, 30 * DAY]);
      expect(scheduler.delays.length).toBeGreaterThan(1);
      expect(Math.max(...scheduler.delays)).toBeLessThanOrEqual(MAX_DELAY);
      expect(scheduler.pending).toBe(0);
    });

    it.each(['drop', 'latest'] as ThrottleMode[])('mode %s: the gate / held-value timer of a monthly quota', (mode) => {
      const scheduler = new RecordingScheduler();
      const emitted: string[] = [];
      const source = new Subject<string>();
      source.pipe(throttleTokenBucket({ rate: 1, per: 30 * DAY, mode, scheduler })).subscribe((v) => emitted.push(v));
      source.next('a');
      source.next('b');
      scheduler.runUntil(31 * DAY);
      source.next('c');
      expect(emitted).toEqual(mode === 'drop' ? ['a', 'c'] : ['a', 'b']);
      expect(Math.max(...scheduler.delays)).toBeLessThanOrEqual(MAX_DELAY);
    });
  });

  describe('7: a store answering with a thenable that settles synchronously', () => {
    it('does not stall the line: five values at 100/s, all out, then complete', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const inner = memoryTokenBucketStore();
        const store = tokenBucketStore({
          take: (request: TokenRequest): PromiseLike<TokenGrant> => ({
            then: (resolve) => resolve?.(inner.take(request) as TokenGrant) as never,
          }),
        });
        expectObservable(cold('(abcde|)').pipe(throttleTokenBucket({ rate: 100, store }))).toBe(
          'a 9ms b 9ms c 9ms d 9ms (e|)',
        );
      });
    });
  });

  describe('found by the clock-steps property', () => {
    it('a store refusal whose retryAfter does not move a clock far from 0 is asked again later, not at once', () => {
      const clock = new SteppingClock();
      clock.skew = 2 ** 33; // the wall clock reads about 8.6e9 ms: a double resolves about 1e-6 ms there
      let asked = 0;
      const store = tokenBucketStore({
        take: (): TokenGrant => (++asked === 1 ? { granted: false, retryAfter: 1e-9 } : { granted: true }),
      });
      const out: string[] = [];
      of('a')
        .pipe(throttleTokenBucket({ rate: 1, store, scheduler: clock }))
        .subscribe((v) => out.push(v));
      expect(asked).toBe(1); // it used to ask again in the same instant, forever
      clock.advance(1);
      expect(asked).toBe(2);
      expect(out).toEqual(['a']);
    });
  });

  describe("9: a value re-sent from onDrop while the operator is failing is reported ('error')", () => {
    it("mode 'error'", () => {
      const source = new Subject<string>();
      const drops: string[] = [];
      let error: unknown;
      source
        .pipe(
          throttleTokenBucket({
            rate: 1,
            mode: 'error',
            scheduler: new Clock(),
            onDrop: (d) => {
              drops.push(`${d.value}:${d.reason}`);
              if (d.value === 'b') source.next('retry b');
            },
          }),
        )
        .subscribe({ error: (e: unknown) => (error = e) });
      source.next('a');
      source.next('b');
      expect((error as Error).name).toBe('RateLimitExceededError');
      expect(drops).toEqual(['b:error', 'retry b:error']);
    });
  });
});
