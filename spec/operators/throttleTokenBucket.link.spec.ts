/**
 * throttleTokenBucket and the credit link (demand end to end): in 'drop' and 'error' it is pass-through (see
 * spec/demand/drain.spec.ts for its drops giving credit back); in 'shape', 'latest' and with a store it holds values,
 * so it takes the drain's credit itself and gives a pull() above credit for the room it has.
 */
import type { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { drain, memoryTokenBucketStore, pull, throttleTokenBucket } from '../../src/index.js';
import type { ThrottleTokenBucketOptions } from '../../src/index.js';
import { dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

/** A generator of `values` that logs `value@frame` as each is read. */
function logged<T>(ts: TestScheduler, values: readonly T[], log: string[]): Generator<T> {
  return (function* () {
    for (const v of values) {
      log.push(`${String(v)}@${ts.now()}`);
      yield v;
    }
    log.push(`end@${ts.now()}`);
  })();
}

describe('throttleTokenBucket and the credit link', () => {
  it("mode 'shape' between a push source and a drain emits only what the drain asked for, nothing lost", () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      // Tokens are plenty (10 per frame); the drain (concurrency 1, projects of 4 frames) is the bottleneck. Without
      // the link b would reach the drain unrequested and error it with BufferOverflowError.
      const source = hot(' -(abc)|');
      const drops = dropLane<string>();
      const project = (x: string) => cold('---x|', { x });
      const output = source.pipe(
        throttleTokenBucket({ rate: 10, per: 1, burst: 10, onDrop: drops.onDrop }),
        drain(project),
      );
      expectObservable(output).toBe('----a---b---c|');
      expectObservable(drops.values$).toBe('');
    });
  });

  for (const store of [false, true]) {
    it(`mode 'shape' between pull and drain${store ? ' (memory store)' : ''}: the generator is read as room frees`, () => {
      const ts = testScheduler();
      ts.run(({ cold, expectObservable }) => {
        const log: string[] = [];
        const project = (x: number) => cold('-x|', { x });
        const options: ThrottleTokenBucketOptions<number> = { rate: 1, per: 4, capacity: 2 };
        const output = pull(logged(ts, [1, 2, 3, 4, 5], log)).pipe(
          throttleTokenBucket(store ? { ...options, store: memoryTokenBucketStore() } : options),
          drain(project),
        );
        // Room for 2: 1 and 2 are read at 0; 1 goes out at once (the bucket is full) and frees its slot, so 3 is read.
        // Then one token per 4 frames: 2 at 4, 3 at 8, 4 at 12, 5 at 16, each paid slot reading the next value
        // (the end of the generator is found at 12, when 4 leaves); the drain's projects end 2 frames later.
        expectObservable(output).toBe('-1---2---3---4---5|', { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 });
        ts.schedule(() => expect(log).toEqual(['1@0', '2@0', '3@0', '4@4', '5@8', 'end@12']), 20);
      });
    });
  }

  it("mode 'shape' under a pull with no drain: room paces the generator, nothing is dropped", () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const log: string[] = [];
      const drops = dropLane<number>();
      const output = pull(logged(ts, [1, 2, 3, 4], log)).pipe(
        throttleTokenBucket({ rate: 1, per: 3, capacity: 1, onDrop: drops.onDrop }),
      );
      // Without the link the iterable would be read in one go and 3 and 4 dropped ('overflow', capacity 1).
      expectObservable(output).toBe('1--2--3--(4|)', { 1: 1, 2: 2, 3: 3, 4: 4 });
      expectObservable(drops.values$).toBe('');
      ts.schedule(() => expect(log).toEqual(['1@0', '2@0', '3@3', '4@6', 'end@9']), 10);
    });
  });

  it("mode 'latest' under a pull: one value held at a time, so the generator is paced, not dropped", () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const log: string[] = [];
      const drops = dropLane<number>();
      const project = (x: number) => cold('x|', { x });
      const output = pull(logged(ts, [1, 2, 3], log)).pipe(
        throttleTokenBucket({ rate: 1, per: 5, mode: 'latest', onDrop: drops.onDrop }),
        drain(project),
      );
      // 1 is paid at once and frees the one slot: 2 is read and held (no token until 5); 3 is read when 2 leaves;
      // the drain completes when the project of 3 (one frame) does.
      expectObservable(output).toBe('1----2----3|', { 1: 1, 2: 2, 3: 3 });
      expectObservable(drops.values$).toBe('');
      ts.schedule(() => expect(log).toEqual(['1@0', '2@0', '3@5', 'end@10']), 12);
    });
  });

  it("mode 'shape': a value payable in time but waiting for the drain's credit does not expire (maxWait)", () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const drops = dropLane<string>();
      // tokens are plenty; the drain's project of a takes 5 frames, so b (payable at once) waits for credit until 6,
      // longer than maxWait 2: that wait is the consumer's, b is not dropped
      const project = (x: string) => cold('----x|', { x });
      const output = hot('-(ab)|').pipe(
        throttleTokenBucket({ rate: 10, per: 1, burst: 10, maxWait: 2, onDrop: drops.onDrop }),
        drain(project),
      );
      expectObservable(output).toBe('-----a----b|');
      expectObservable(drops.values$).toBe('');
    });
  });

  it("mode 'latest' with a memory store draws the same diagram as without one", () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const drops = dropLane<string>();
      const source = hot('-abc---de-|');
      const options = {
        rate: 1,
        per: 4,
        mode: 'latest' as const,
        store: memoryTokenBucketStore(),
        onDrop: drops.onDrop,
      };
      expectObservable(source.pipe(throttleTokenBucket(options))).toBe('-a---c---e|');
      expectObservable(drops.reasons$).toBe('---b----d', { b: 'b:rate', d: 'd:rate' });
    });
  });
});
