/**
 * throttleTokenBucket({ key, maxKeys }) (issue 21 item 4, API.md): one bucket per key, and in 'shape' / 'latest' one
 * waiting line / held value per key (capacity counts per key); a bucket full again is forgotten and does not count
 * toward maxKeys; when a new key would exceed maxKeys the least recently used bucket goes, what waits on it dropped
 * 'evicted'; a key function that throws errors the stream; the key travels to a store (TokenRequest.key).
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { QueueMetrics, memoryTokenBucketStore, throttleTokenBucket, tokenBucketStore } from '../../src/index.js';
import type { ThrottleMode, TokenRequest } from '../../src/index.js';
import { Clock as MonotonicClock } from '../../src/internal/clock.js';
import { TokenBucket } from '../../src/rate/bucket.js';
import { Lanes } from '../../src/rate/lanes.js';
import type { Lane } from '../../src/rate/lanes.js';
import { dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';
import { Clock } from '../contract/registry.js';

/** Key of a marble value: x and y are tenant B, every other letter tenant A. */
const tenant = (v: string): string => (v === 'x' || v === 'y' ? 'B' : 'A');

describe('throttleTokenBucket key / maxKeys', () => {
  describe("per-key isolation: one key's flood neither delays nor drops another's", () => {
    // rate 1 per 10, burst 1 per key. Tenant A floods a..e at 1; tenant B sends x at 8 and y at 19.
    const source = '-(abcde)x 10ms y|';
    it.each<[ThrottleMode, string, string, Record<string, string>]>([
      // A: a at 1, b and c wait (capacity 2), d and e overflow; B: x and y at once, each paid by B's own bucket
      ['shape', '-a 6ms x 2ms b 7ms y-(c|)', '-(de)', { d: 'd:overflow', e: 'e:overflow' }],
      ['drop', '-a 6ms x 10ms y|', '-(bcde)', { b: 'b:rate', c: 'c:rate', d: 'd:rate', e: 'e:rate' }],
      // A: e, the last, is held and goes out at 11
      ['latest', '-a 6ms x 2ms e 7ms y|', '-(bcd)', { b: 'b:rate', c: 'c:rate', d: 'd:rate' }],
    ])('mode %s', (mode, expected, dropped, reasons) => {
      testScheduler().run(({ hot, expectObservable }) => {
        const drops = dropLane<string>();
        const options = { rate: 1, per: 10, capacity: 2, mode, key: tenant, onDrop: drops.onDrop };
        expectObservable(hot(source).pipe(throttleTokenBucket(options))).toBe(expected);
        expectObservable(drops.reasons$).toBe(dropped, reasons);
      });
    });

    it("without key the same flood delays tenant B (mode 'shape'): the control", () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const options = { rate: 1, per: 10, capacity: 2 };
        // one line: a at 1, b at 11, c at 21; x (8) finds the line full and is dropped, y (19) waits until 31
        expectObservable(hot(source).pipe(throttleTokenBucket(options))).toBe('-a 9ms b 9ms c 9ms (y|)');
      });
    });

    it('with a shared memory store: one bucket per key in the store (TokenRequest.key)', () => {
      const inner = memoryTokenBucketStore();
      const keys: (string | undefined)[] = [];
      const store = tokenBucketStore({
        take: (request: TokenRequest) => {
          keys.push(request.key);
          return inner.take(request);
        },
      });
      testScheduler().run(({ hot, expectObservable }) => {
        const options = { rate: 1, per: 10, mode: 'drop' as const, key: tenant, store };
        expectObservable(hot(source).pipe(throttleTokenBucket(options))).toBe('-a 6ms x 10ms y|');
      });
      expect(keys).toEqual(['A', 'A', 'A', 'A', 'A', 'B', 'B']);
    });
  });

  it("maxKeys: a new key evicts the least recently used bucket, what waits on it dropped 'evicted'", () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      const key = (v: string): string => ({ a: 'A', p: 'A', b: 'B', c: 'C' })[v]!;
      // a (A) at 1 and b (B) at 3 spend their buckets; p (A, at 2) waits. c at 4 is a third key: neither bucket is
      // full again, A was used least recently (at 2, B at 3): A goes, and p with it.
      const source = hot(' -apbc');
      expectObservable(
        source.pipe(throttleTokenBucket({ rate: 1, per: 10, key, maxKeys: 2, onDrop: drops.onDrop })),
      ).toBe('-a-bc');
      expectObservable(drops.reasons$).toBe('----p', { p: 'p:evicted' });
    });
  });

  it('maxKeys: a bucket full again is forgotten first and does not count (the least recently used one stays)', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      const key = (v: string): string => ({ a: 'A', e: 'A', b: 'B', q: 'B', c: 'C' })[v]!;
      const cost = (v: string): number => (v === 'a' || v === 'e' ? 0.1 : 1);
      // A takes 0.1 token at 1 and at 6 (full again at 7); B takes its token at 5 (full again at 15). c (C) at 12:
      // B is the least recently used, but A is full again: A is forgotten, B kept. So q (B, at 13) finds B's bucket
      // at 0.8 token and is dropped; had B been evicted it would have found a new, full bucket.
      const source = hot(' -a---be-----cq|');
      expectObservable(
        source.pipe(
          throttleTokenBucket({ rate: 1, per: 10, mode: 'drop', cost, key, maxKeys: 2, onDrop: drops.onDrop }),
        ),
      ).toBe('-a---be-----c-|');
      expectObservable(drops.reasons$).toBe('-------------q', { q: 'q:rate' });
    });
  });

  it('a key function that throws errors the stream with its error; held values first, then the arrival', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      const broken = new Error('no tenant');
      const key = (v: string): string => {
        if (v === 'c') throw broken;
        return 'A';
      };
      expectObservable(hot('-abc').pipe(throttleTokenBucket({ rate: 1, per: 10, key, onDrop: drops.onDrop }))).toBe(
        '-a-#',
        undefined,
        broken,
      );
      expectObservable(drops.reasons$).toBe('---(bc)', { b: 'b:error', c: 'c:error' });
    });
  });

  it('a key function returning anything but a string errors the stream with a RangeError', () => {
    const errors: unknown[] = [];
    const source = new Subject<number>();
    source
      .pipe(throttleTokenBucket({ rate: 1, key: (v) => v as unknown as string, scheduler: new Clock() }))
      .subscribe({ error: (e: unknown) => errors.push(e) });
    source.next(7);
    expect(errors).toEqual([new RangeError('throttleTokenBucket: key must return a string, got 7')]);
  });

  it('maxKeys bounds what is held under 10^5 distinct keys (each key leaves one value waiting)', () => {
    const clock = new Clock();
    const metrics = new QueueMetrics({ scheduler: clock });
    const source = new Subject<number>();
    let evicted = 0;
    let emitted = 0;
    source
      .pipe(
        throttleTokenBucket({
          rate: 1,
          per: 1000,
          key: (v) => String(v >> 1),
          maxKeys: 100,
          metrics,
          scheduler: clock,
          onDrop: (d) => void (d.reason === 'evicted' && evicted++),
        }),
      )
      .subscribe(() => emitted++);
    let worst = 0;
    for (let v = 0; v < 200_000; v++) {
      source.next(v); // key v >> 1: the first value of a key is paid for, the second waits
      if (metrics.depth > worst) worst = metrics.depth;
    }
    expect(worst).toBe(100);
    expect(emitted).toBe(100_000);
    expect(evicted).toBe(100_000 - 100);
  });
});

describe('Lanes (the keyed buckets of a run)', () => {
  function lanes(max: number, now: () => number) {
    const gone: string[] = [];
    const clock = new MonotonicClock({ now, schedule: () => undefined as never });
    const kept = new Lanes<number>(
      max,
      clock,
      (key) =>
        ({
          key,
          bucket: new TokenBucket(1, 10, 1),
          head: undefined,
          line: [],
          timer: undefined,
          paying: false,
          payable: -Infinity,
          below: 0,
          asking: false,
          due: false,
          starved: false,
          i: -1,
          full: -Infinity,
        }) satisfies Lane<number>,
      (lane) => gone.push(lane.key),
    );
    return { kept, gone };
  }

  it('never keeps more than maxKeys lanes under 10^6 distinct keys (the map size, counted)', () => {
    let t = 0;
    const { kept, gone } = lanes(10_000, () => t);
    let largest = 0;
    for (let k = 0; k < 1_000_000; k++) {
      const lane = kept.get(`k${k}`);
      // spend the bucket: full again 10 ms later
      lane.bucket!.take(lane.bucket!.level(t) > 5 ? 10 : 0);
      lane.full = lane.bucket!.dueAt(lane.bucket!.size);
      kept.update(lane);
      if (kept.size > largest) largest = kept.size;
      if (k % 1000 === 999) t += 1;
    }
    expect(largest).toBe(10_000);
    expect(gone).toHaveLength(1_000_000 - 10_000);
  });

  it('forgets a lane whose bucket is full again before evicting the least recently used one', () => {
    let t = 0;
    const { kept, gone } = lanes(2, () => t);
    const a = kept.get('a');
    a.full = 5;
    kept.update(a);
    const b = kept.get('b');
    b.full = 50;
    kept.update(b);
    kept.get('a'); // a is now the most recently used
    t = 10;
    const c = kept.get('c'); // a is full again (5 <= 10): forgotten, though b is the least recently used
    expect(gone).toEqual(['a']);
    c.full = 60;
    kept.update(c);
    kept.get('d'); // nothing is full again: the least recently used (b) goes
    expect(gone).toEqual(['a', 'b']);
    expect(kept.size).toBe(2);
  });
});
