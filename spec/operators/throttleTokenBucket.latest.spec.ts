/**
 * throttleTokenBucket({ mode: 'latest' }) per the contract (API.md, 2026-12-03 additions): a value the bucket cannot
 * pay for now is held, replacing (and dropping, reason 'rate') the one held before; the held value is emitted the
 * instant the bucket can pay for it; completion waits for it; on error / unsubscribe it is reported 'error' /
 * 'cancelled'. With cost, an arrival always replaces the held value and goes out once its own cost has accrued.
 */
import { Subject, mergeMap, of } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { throttleTokenBucket } from '../../src/index.js';
import { dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

describe("throttleTokenBucket mode 'latest'", () => {
  it('the JSDoc diagram: the last value of each burst goes out when the next token falls due', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const drops = dropLane<string>();
      // a spends the one token at 1; b (2) is held, c (3) replaces it and goes out at 5; d (7) is held, e (8)
      // replaces it and goes out at 9; the source completes at 10 with nothing held.
      const source = hot(' -abc---de-|');
      const expected = '   -a---c---e|';
      const dropped = '    ---b----d--';
      expectObservable(
        source.pipe(throttleTokenBucket({ rate: 1, per: 4, mode: 'latest', onDrop: drops.onDrop })),
      ).toBe(expected);
      expectObservable(drops.reasons$).toBe(dropped, { b: 'b:rate', d: 'd:rate' });
      expectSubscriptions(source.subscriptions).toBe('^---------!');
    });
  });

  it("the UI guide's pointer diagram (docs/strategies.md): 'latest' draws the last move, 'drop' ends on an older one", () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const pointer = hot('-abcdef----gh-|');
      expectObservable(pointer.pipe(throttleTokenBucket({ rate: 1, per: 3, mode: 'latest' }))).toBe(
        '-a--d--f---g--(h|)',
      );
      // drop: d arrives in the frame its token falls due, before the gate's timer: dropped (the boundary tie), e paid
      expectObservable(pointer.pipe(throttleTokenBucket({ rate: 1, per: 3, mode: 'drop' }))).toBe('-a---e-----g--|');
    });
  });

  it('a burst: up to burst values pass at once, the last of the rest goes out one token later', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      // burst 3: a, b, c pay at 1; d is held, e replaces d, f replaces e; one token falls due at 11: f goes out
      const source = hot(' -(abcdef) 20ms |');
      const expected = '   -(abc) 5ms f 17ms |';
      expectObservable(
        source.pipe(throttleTokenBucket({ rate: 1, per: 10, burst: 3, mode: 'latest', onDrop: drops.onDrop })),
      ).toBe(expected);
      expectObservable(drops.reasons$).toBe('-(de)', { d: 'd:rate', e: 'e:rate' });
    });
  });

  it('completion waits for the held value', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -ab|');
      const expected = '   -a----(b|)';
      expectObservable(source.pipe(throttleTokenBucket({ rate: 1, per: 5, mode: 'latest' }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it("an upstream error reports the held value as 'error'", () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      const source = hot(' -ab-#');
      const expected = '   -a--#';
      expectObservable(
        source.pipe(throttleTokenBucket({ rate: 1, per: 5, mode: 'latest', onDrop: drops.onDrop })),
      ).toBe(expected);
      expectObservable(drops.reasons$).toBe('----b', { b: 'b:error' });
    });
  });

  it("unsubscribing reports the held value as 'cancelled' and leaves no timer", () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const actions: Subscription[] = [];
      const scheduler: SchedulerLike = {
        now: () => ts.now(),
        schedule: ((work: never, delay?: number) => {
          const action = ts.schedule(work, delay);
          actions.push(action);
          return action;
        }) as SchedulerLike['schedule'],
      };
      const drops = dropLane<string>();
      const source = hot(' -ab---');
      const unsub = '      ---!';
      expectObservable(
        source.pipe(throttleTokenBucket({ rate: 1, per: 5, mode: 'latest', onDrop: drops.onDrop, scheduler })),
        unsub,
      ).toBe('-a-');
      expectSubscriptions(source.subscriptions).toBe('^--!');
      expectObservable(drops.reasons$).toBe('---b', { b: 'b:cancelled' });
      ts.schedule(() => {
        expect(actions).toHaveLength(1); // the timer for b, due at 6
        expect(actions[0]!.closed).toBe(true);
      }, 4);
    });
  });

  it('with cost: an arrival replaces the held value and goes out once its own cost has accrued', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      const cost = { a: 2, b: 2, c: 1 } as Record<string, number>;
      // a spends both tokens at 1; b (cost 2) would go out at 21; c (cost 1) replaces it at 3 and goes out at 11
      const source = hot(' -abc');
      expectObservable(
        source.pipe(
          throttleTokenBucket({
            rate: 1,
            per: 10,
            burst: 2,
            cost: (v) => cost[v]!,
            mode: 'latest',
            onDrop: drops.onDrop,
          }),
        ),
      ).toBe('-a 9ms c');
      expectObservable(drops.reasons$).toBe('---b', { b: 'b:rate' });
    });
  });

  it('with cost: a dearer arrival replaces a cheaper held value; the older one never goes out after it', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      const cost = { a: 2, y: 1, z: 2 } as Record<string, number>;
      // a spends both tokens at 1; y (cost 1) is held until 11; z (cost 2) replaces it at 5 and waits until 21
      const source = hot(' -ay--z');
      expectObservable(
        source.pipe(
          throttleTokenBucket({
            rate: 1,
            per: 10,
            burst: 2,
            cost: (v) => cost[v]!,
            mode: 'latest',
            onDrop: drops.onDrop,
          }),
        ),
      ).toBe('-a 19ms z');
      expectObservable(drops.reasons$).toBe('-----y', { y: 'y:rate' });
    });
  });

  it('a cost above burst waits for a full bucket and goes through into debt, as in shape mode', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      // a leaves 1 token; X (cost 5, burst 2) is held until the bucket is full at 11, then leaves -3; b (15) waits
      // for 1 token: 40 frames after 11; completion (18) waits for it
      const source = hot(' -aX 12ms b--|');
      const cost = (v: string) => (v === 'X' ? 5 : 1);
      expectObservable(source.pipe(throttleTokenBucket({ rate: 1, per: 10, burst: 2, cost, mode: 'latest' }))).toBe(
        '-a 9ms X 39ms (b|)',
      );
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
        throttleTokenBucket({ rate: 1, per: 1, mode: 'latest' }),
        mergeMap((x) => of(x)),
      );
      expectObservable(result, unsub).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('delivers values a consumer feeds back synchronously, in order, without recursion per value', () => {
    const source = new Subject<number>();
    const seen: number[] = [];
    source.pipe(throttleTokenBucket({ rate: 1, burst: 100_000, mode: 'latest' })).subscribe((v) => {
      seen.push(v);
      if (v < 99_999) source.next(v + 1);
    });
    source.next(0);
    expect(seen).toHaveLength(100_000);
    expect(seen.every((v, i) => v === i)).toBe(true);
  });
});
