import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, RELATIVE_ERROR } from '../../src/metrics/Histogram.js';

/** Nearest-rank percentile of the samples, computed exactly by sorting (what the histogram must approximate). */
function exactPercentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

/** Relative error allowed: the documented 2%, plus floating-point slack. */
function withinError(actual: number, exact: number): boolean {
  return Math.abs(actual - exact) <= RELATIVE_ERROR * exact * (1 + 1e-9);
}

describe('Histogram', () => {
  it('documents a 2% relative error', () => {
    expect(RELATIVE_ERROR).toBe(0.02);
  });

  it('reads 0 when empty', () => {
    const h = new Histogram();
    expect(h.count).toBe(0);
    expect(h.percentile(0.5)).toBe(0);
    expect(h.percentile(1)).toBe(0);
  });

  it('reads zero waits as 0 and the maximum exactly', () => {
    const h = new Histogram();
    h.recordZeros(98);
    h.record(123.456);
    h.record(7);
    expect(h.count).toBe(100);
    expect(h.percentile(0.5)).toBe(0);
    expect(h.percentile(0.98)).toBe(0);
    expect(withinError(h.percentile(0.99), 7)).toBe(true);
    expect(h.percentile(1)).toBe(123.456);
  });

  it('answers every percentile within the documented error of the exact one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 1e8, noNaN: true }), { minLength: 1, maxLength: 400 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (samples, p) => {
          const h = new Histogram();
          for (const s of samples) h.record(s);
          const exact = exactPercentile(samples, p);
          expect(withinError(h.percentile(p), exact), `p=${p} exact=${exact} got=${h.percentile(p)}`).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('measures a window since a copy, within the documented error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 1e6, noNaN: true }), { maxLength: 100 }),
        fc.array(fc.double({ min: 0.001, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 100 }),
        fc.constantFrom(0.5, 0.9, 0.99, 0.999),
        (before, during, p) => {
          const h = new Histogram();
          for (const s of before) h.record(s);
          const mark = h.copy();
          for (const s of during) h.record(s);
          expect(withinError(h.percentileSince(mark, p), exactPercentile(during, p))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads 0 for an empty window and reuses a mark with copyFrom', () => {
    const h = new Histogram();
    h.record(10);
    const mark = h.copy();
    expect(h.percentileSince(mark, 0.99)).toBe(0);
    h.record(1000);
    expect(withinError(h.percentileSince(mark, 0.99), 1000)).toBe(true);
    mark.copyFrom(h);
    expect(h.percentileSince(mark, 0.99)).toBe(0);
  });

  it('merges and resets', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(1);
    b.record(100);
    a.merge(b);
    expect(a.count).toBe(2);
    expect(a.max).toBe(100);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.percentile(0.5)).toBe(0);
  });
});
