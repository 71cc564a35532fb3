import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/queue/RingBuffer.js';

describe('RingBuffer', () => {
  it('is FIFO across growth and wrap-around', () => {
    const ring = new RingBuffer<number>(false, 2);
    for (let i = 0; i < 3; i++) ring.push(i);
    expect(ring.shift()).toBe(0);
    for (let i = 3; i < 20; i++) ring.push(i);
    const out: number[] = [];
    while (ring.size > 0) out.push(ring.shift());
    expect(out).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
  });

  it('pops the newest and keeps push times beside values', () => {
    const ring = new RingBuffer<string>(true);
    ring.push('a', 10);
    ring.push('b', 20);
    ring.push('c', 30);
    expect(ring.oldestTime()).toBe(10);
    expect(ring.pop()).toBe('c');
    expect(ring.lastTime).toBe(30);
    expect(ring.shift()).toBe('a');
    expect(ring.lastTime).toBe(10);
    expect(ring.oldestTime()).toBe(20);
  });

  it('clear visits every value oldest first and releases them', () => {
    const ring = new RingBuffer<object>();
    const values = Array.from({ length: 50 }, (_, i) => ({ i }));
    values.forEach((v) => ring.push(v));
    const seen: object[] = [];
    ring.clear((v) => seen.push(v));
    expect(seen).toEqual(values);
    expect(ring.size).toBe(0);
    expect((ring as unknown as { items: unknown[] }).items.every((x) => x === undefined)).toBe(true);
  });

  it('behaves like an array deque (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer(), fc.constant('shift' as const), fc.constant('pop' as const))),
        (ops) => {
          const ring = new RingBuffer<number>(true, 1);
          const model: number[] = [];
          for (const op of ops) {
            if (op === 'shift') {
              if (model.length === 0) continue;
              expect(ring.shift()).toBe(model.shift());
            } else if (op === 'pop') {
              if (model.length === 0) continue;
              expect(ring.pop()).toBe(model.pop());
            } else {
              ring.push(op, op);
              model.push(op);
            }
            expect(ring.size).toBe(model.length);
            expect(ring.oldestTime()).toBe(model[0]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
