import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriorityStore } from '../../src/queue/PriorityStore.js';

/** Reference model: an array of [rank, value, time], searched linearly. */
class Model {
  readonly items: { rank: number; value: number; time: number }[] = [];
  push(value: number, rank: number, time: number): void {
    this.items.push({ rank, value, time });
  }
  private take(pick: (a: number, b: number) => boolean): { value: number; time: number } {
    let at = 0;
    for (let i = 1; i < this.items.length; i++) if (pick(this.items[i]!.rank, this.items[at]!.rank)) at = i;
    return this.items.splice(at, 1)[0]!;
  }
  /** Highest rank, oldest first (the first index wins ties). */
  shift(): { value: number; time: number } {
    return this.take((a, b) => a > b);
  }
  /** Lowest rank, oldest first. */
  shiftLowest(): { value: number; time: number } {
    return this.take((a, b) => a < b);
  }
  lowest(): number | undefined {
    return this.items.length === 0 ? undefined : Math.min(...this.items.map((i) => i.rank));
  }
  oldestTime(): number | undefined {
    return this.items.length === 0 ? undefined : Math.min(...this.items.map((i) => i.time));
  }
}

describe('PriorityStore', () => {
  it('shifts highest first, FIFO within a level, and records the push time of what it removed', () => {
    const store = new PriorityStore<string>(true);
    store.push('l1', 0, 1);
    store.push('h1', 2, 2);
    store.push('m1', 1, 3);
    store.push('h2', 2, 4);
    store.push('l2', 0, 5);
    expect(store.size).toBe(5);
    expect(store.lowest()).toBe(0);
    expect(store.oldestTime()).toBe(1);
    expect(store.shift()).toBe('h1');
    expect(store.lastTime).toBe(2);
    expect(store.shiftLowest()).toBe('l1');
    expect(store.lastTime).toBe(1);
    expect(store.oldestTime()).toBe(3);
    expect([store.shift(), store.shift(), store.shift()]).toEqual(['h2', 'm1', 'l2']);
    expect(store.size).toBe(0);
    expect(store.lowest()).toBeUndefined();
    expect(store.oldestTime()).toBeUndefined();
  });

  it('pop removes the newest of the lowest level', () => {
    const store = new PriorityStore<string>(false);
    store.push('a', 1);
    store.push('b', 0);
    store.push('c', 0);
    expect(store.pop()).toBe('c');
    expect(store.pop()).toBe('b');
    expect(store.pop()).toBe('a');
  });

  it('clear visits every value highest level first, oldest first within a level, and empties the store', () => {
    const store = new PriorityStore<string>(false);
    for (const [v, r] of [
      ['a', 1],
      ['b', 3],
      ['c', 1],
      ['d', 2],
    ] as const) {
      store.push(v, r);
    }
    const seen: string[] = [];
    store.clear((v) => seen.push(v));
    expect(seen).toEqual(['b', 'd', 'a', 'c']);
    expect(store.size).toBe(0);
    expect(store.lowest()).toBeUndefined();
    store.push('e', 5);
    expect(store.shift()).toBe('e');
  });

  it('keeps few idle levels: many distinct priorities do not pile up rings', () => {
    const store = new PriorityStore<number>(false);
    for (let i = 0; i < 10_000; i++) {
      store.push(i, i * 0.5);
      store.shift();
    }
    const rings = (store as unknown as { rings: Map<number, unknown> }).rings;
    expect(rings.size).toBeLessThanOrEqual(65);
    expect(store.size).toBe(0);
  });

  it('treats -0 and 0 as one level', () => {
    const store = new PriorityStore<string>(false);
    store.push('a', 0);
    store.push('b', -0);
    store.push('c', 1);
    expect([store.shift(), store.shift(), store.shift()]).toEqual(['c', 'a', 'b']);
  });

  it('behaves like the reference model (property)', () => {
    const op = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({ kind: fc.constant('push' as const), rank: fc.integer({ min: -4, max: 4 }) }),
      },
      { weight: 2, arbitrary: fc.constant({ kind: 'shift' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'shiftLowest' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const store = new PriorityStore<number>(true);
        const model = new Model();
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const value = next++;
            store.push(value, o.rank, value);
            model.push(value, o.rank, value);
          } else if (model.items.length > 0) {
            const expected = o.kind === 'shift' ? model.shift() : model.shiftLowest();
            expect(o.kind === 'shift' ? store.shift() : store.shiftLowest()).toBe(expected.value);
            expect(store.lastTime).toBe(expected.time);
          }
          expect(store.size).toBe(model.items.length);
          expect(store.lowest()).toBe(model.lowest());
          expect(store.oldestTime()).toBe(model.oldestTime());
        }
      }),
      { numRuns: 1000 },
    );
  });
});
