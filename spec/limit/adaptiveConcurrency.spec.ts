/**
 * adaptiveConcurrency against a simulated downstream of true concurrency C, in virtual time, through the real `drain`
 * fed by a `pull()` flood (the producer always has a value ready): the downstream either slows down above C
 * (processor sharing: latency = base x running / C) or answers 503 at once when C calls are being served. C is 40
 * for 40 s, drops to 20 for 40 s, then recovers to 40 for 40 s. Checked: each algorithm's limit settles near C in
 * each phase, following C down and up; no project ever starts while the limit is already running; a limiter shared by
 * two drains bounds the sum of both.
 */
import { Observable } from 'rxjs';
import type { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adaptiveConcurrency, drain, pull } from '../../src/index.js';
import type { ConcurrencyLimiter, LimitAlgorithm } from '../../src/index.js';
import { Clock } from '../contract/registry.js';

const BASE = 100; // ms, the downstream's no-load latency
const PHASE = 40_000;
const PHASES = [40, 20, 40];

type Model = 'latency' | '503';

/** The downstream: `capacity` changes by phase; `starts` counts violations of the limit at project starts. */
class Downstream {
  running = 0;
  /** Calls accepted and being served (a refused call is not served: it takes no capacity). */
  serving = 0;
  capacity = PHASES[0]!;
  served = 0;
  overLimit = 0;
  maxRunning = 0;

  constructor(
    private readonly clock: Clock,
    private readonly model: Model,
    private readonly limiter: ConcurrencyLimiter,
  ) {}

  call(): Observable<number> {
    return new Observable<number>((subscriber) => {
      this.running++;
      if (this.running > this.limiter.limit) this.overLimit++;
      if (this.running > this.maxRunning) this.maxRunning = this.running;
      const refuse = this.model === '503' && this.serving >= this.capacity;
      if (!refuse) this.serving++;
      const latency = refuse ? 5 : BASE * Math.max(1, this.running / this.capacity);
      let done = false;
      const reply = this.clock.schedule(() => {
        done = true;
        this.running--;
        if (!refuse) this.serving--;
        if (refuse) {
          subscriber.error(Object.assign(new Error('503'), { status: 503 }));
          return;
        }
        this.served++;
        subscriber.next(1);
        subscriber.complete();
      }, latency);
      return () => {
        if (done) return;
        this.running--;
        if (!refuse) this.serving--;
        reply.unsubscribe();
      };
    });
  }
}

function* flood(): Generator<number> {
  for (let i = 0; ; i++) yield i;
}

interface Run {
  /** Mean limit over the last 10 s of each phase. */
  settled: number[];
  overLimit: number;
  maxRunning: number;
  served: number;
}

function simulate(algorithm: LimitAlgorithm, model: Model, users = 1): Run {
  const clock = new Clock();
  const limiter = adaptiveConcurrency({ algorithm, scheduler: clock });
  const downstream = new Downstream(clock, model, limiter);
  const subscriptions: Subscription[] = [];
  for (let u = 0; u < users; u++) {
    subscriptions.push(
      pull(flood())
        .pipe(drain(() => downstream.call(), { concurrency: limiter, onError: 'continue' }))
        .subscribe(),
    );
  }
  // the limit, sampled every 100 ms
  const samples: number[] = [];
  const settled: number[] = [];
  for (const capacity of PHASES) {
    downstream.capacity = capacity;
    samples.length = 0;
    for (let t = 0; t < PHASE; t += 100) {
      clock.advance(100);
      if (t >= PHASE - 10_000) samples.push(limiter.limit);
    }
    settled.push(samples.reduce((a, b) => a + b, 0) / samples.length);
  }
  subscriptions.forEach((s) => s.unsubscribe());
  return { settled, overLimit: downstream.overLimit, maxRunning: downstream.maxRunning, served: downstream.served };
}

const cases: Array<[LimitAlgorithm, Model]> = [
  ['gradient2', 'latency'],
  ['vegas', 'latency'],
  ['gradient2', '503'],
  ['vegas', '503'],
  ['aimd', '503'],
];

describe('adaptiveConcurrency against a downstream of true concurrency C (40, then 20, then 40)', () => {
  for (const [algorithm, model] of cases) {
    const what = model === 'latency' ? 'slows down' : 'answers 503';
    it(`${algorithm}, a downstream that ${what} above C: settles near C and follows it`, () => {
      const run = simulate(algorithm, model);
      console.log(
        `${algorithm} (${model}): limit settled at ${run.settled.map((l) => l.toFixed(1)).join(' / ')} ` +
          `for C = ${PHASES.join(' / ')}; most running ${run.maxRunning}; served ${run.served}`,
      );
      run.settled.forEach((limit, phase) => {
        const c = PHASES[phase]!;
        expect(limit, `phase ${phase} (C = ${c})`).toBeGreaterThanOrEqual(0.8 * c);
        expect(limit, `phase ${phase} (C = ${c})`).toBeLessThanOrEqual(1.3 * c);
      });
      expect(run.overLimit, 'projects started while the limit was already running').toBe(0);
    });
  }

  it('a limiter shared by two drains bounds the sum of both, and still settles near C', () => {
    const run = simulate('gradient2', 'latency', 2);
    expect(run.overLimit).toBe(0);
    run.settled.forEach((limit, phase) => {
      const c = PHASES[phase]!;
      expect(limit).toBeGreaterThanOrEqual(0.8 * c);
      expect(limit).toBeLessThanOrEqual(1.3 * c);
    });
  });
});

describe('adaptiveConcurrency', () => {
  it('limit$ emits the limit on subscribe and at every change', () => {
    const clock = new Clock();
    const limiter = adaptiveConcurrency({ algorithm: 'aimd', initial: 3, scheduler: clock });
    const seen: number[] = [];
    limiter.limit$.subscribe((l) => seen.push(l));
    const downstream = new Downstream(clock, '503', limiter);
    downstream.capacity = 100;
    const s = pull(flood())
      .pipe(drain(() => downstream.call(), { concurrency: limiter }))
      .subscribe();
    clock.advance(2000);
    s.unsubscribe();
    expect(seen[0]).toBe(3);
    expect(seen.slice(0, 4)).toEqual([3, 4, 5, 6]); // +1 per window while every permit is used
    expect(seen[seen.length - 1]).toBe(limiter.limit);
  });

  it('does not grow while fewer than half its permits are used (an idle caller proves nothing)', () => {
    const clock = new Clock();
    const limiter = adaptiveConcurrency({ algorithm: 'aimd', initial: 10, scheduler: clock });
    const port = (limiter as unknown as Record<symbol, { tryAcquire(): boolean; release(sample?: object): void }>)[
      Symbol.for('rxjs-backpressure.concurrency-limiter.v1')
    ]!;
    const windows = (inUse: number): void => {
      for (let i = 0; i < 30; i++) {
        for (let p = 0; p < inUse; p++) expect(port.tryAcquire()).toBe(true);
        clock.advance(50);
        for (let p = 0; p < inUse; p++) port.release({ rtt: 50, failed: false });
      }
    };
    windows(4); // 4 of 10 in use: no growth
    expect(limiter.limit).toBe(10);
    windows(5); // half: +1 per window
    expect(limiter.limit).toBeGreaterThan(10);
  });

  it('takes isDrop: an error it rejects is a sample like a success, not a drop', () => {
    const clock = new Clock();
    const limiter = adaptiveConcurrency({
      algorithm: 'aimd',
      initial: 2,
      scheduler: clock,
      isDrop: (e) => (e as { status?: number }).status === 503,
    });
    const port = (limiter as unknown as Record<symbol, { tryAcquire(): boolean; release(sample?: object): void }>)[
      Symbol.for('rxjs-backpressure.concurrency-limiter.v1')
    ]!;
    const window = (error: unknown): void => {
      for (let i = 0; i < 10; i++) {
        port.tryAcquire();
        port.tryAcquire();
        clock.advance(20);
        port.release({ rtt: 20, failed: true, error });
        port.release({ rtt: 20, failed: true, error });
      }
    };
    window(new Error('404'));
    expect(limiter.limit).toBe(3); // grew: not overload
    window({ status: 503 });
    expect(limiter.limit).toBe(2); // 3 x 0.9, floored
  });

  it('validates its options at the call', () => {
    expect(() => adaptiveConcurrency({ algorithm: 'bbr' as never })).toThrow(
      new TypeError("adaptiveConcurrency: algorithm must be one of 'gradient2', 'vegas', 'aimd', got \"bbr\""),
    );
    expect(() => adaptiveConcurrency({ initial: 0 })).toThrow(RangeError);
    expect(() => adaptiveConcurrency({ min: 10, max: 5 })).toThrow(
      new RangeError('adaptiveConcurrency: min must be at most max (5), got 10'),
    );
    expect(() => adaptiveConcurrency({ initial: 300 })).toThrow(
      new RangeError('adaptiveConcurrency: initial must be between min (1) and max (256), got 300'),
    );
    expect(() => adaptiveConcurrency({ isDrop: 1 } as never)).toThrow(TypeError);
    expect(() => adaptiveConcurrency({ window: 1 } as never)).toThrow(/unknown option "window"/);
  });
});
