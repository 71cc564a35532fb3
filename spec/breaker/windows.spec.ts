import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountWindow, FAILED, SLOW, TIME_BUCKETS, TimeWindow } from '../../src/breaker/windows.js';
import type { Outcome } from '../../src/breaker/windows.js';

describe('CountWindow', () => {
  it('totals the last size calls and forgets older ones', () => {
    const window = new CountWindow(3);
    window.record(FAILED);
    window.record((FAILED | SLOW) as Outcome);
    window.record(0);
    expect(window.totals()).toEqual({ calls: 3, failures: 2, slow: 1 });
    window.record(SLOW); // evicts the first failure
    expect(window.totals()).toEqual({ calls: 3, failures: 1, slow: 2 });
    expect(window.toJSON()).toEqual({ kind: 'count', size: 3, outcomes: [3, 0, 2] });
  });

  it('restores its outcomes oldest first, and nothing from a window of another size', () => {
    const window = new CountWindow(3);
    window.restore({ kind: 'count', size: 3, outcomes: [1, 0, 3] });
    expect(window.totals()).toEqual({ calls: 3, failures: 2, slow: 1 });
    window.record(0);
    expect(window.toJSON().kind === 'count' && window.toJSON()).toMatchObject({ outcomes: [0, 3, 0] });
    window.restore({ kind: 'count', size: 4, outcomes: [1, 1] });
    expect(window.totals()).toEqual({ calls: 0, failures: 0, slow: 0 });
  });

  it('agrees with the last-size slice of every call (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.constantFrom<Outcome>(0, 1, 2, 3)), (size, outcomes) => {
        const window = new CountWindow(size);
        outcomes.forEach((o) => window.record(o));
        const last = outcomes.slice(-size);
        expect(window.totals()).toEqual({
          calls: last.length,
          failures: last.filter((o) => o & FAILED).length,
          slow: last.filter((o) => o & SLOW).length,
        });
        expect(window.toJSON()).toEqual({ kind: 'count', size, outcomes: last });
      }),
    );
  });
});

describe('TimeWindow', () => {
  it('counts a call for TIME_BUCKETS buckets of duration / TIME_BUCKETS ms', () => {
    const window = new TimeWindow(100); // buckets of 10 ms
    window.record(FAILED, 5); // bucket 0
    window.record(0, 19); // bucket 1
    expect(window.totals(99)).toEqual({ calls: 2, failures: 1, slow: 0 });
    expect(window.totals(100)).toEqual({ calls: 1, failures: 0, slow: 0 }); // bucket 0 is 10 buckets old
    expect(window.totals(110)).toEqual({ calls: 0, failures: 0, slow: 0 });
  });

  it('reads a slot last written long ago as empty (no timer needed after an idle gap)', () => {
    const window = new TimeWindow(10);
    window.record(FAILED, 3);
    window.record(FAILED, 3 + 10 * TIME_BUCKETS * 7); // the same slot, 7 laps later
    expect(window.totals(3 + 10 * TIME_BUCKETS * 7)).toEqual({ calls: 1, failures: 1, slow: 0 });
  });

  it('snapshots live buckets oldest first and restores them only into the same duration', () => {
    const window = new TimeWindow(10);
    window.record(SLOW, 4);
    window.record(FAILED, 2);
    window.record(FAILED, 2.5);
    const snapshot = window.toJSON();
    expect(snapshot).toEqual({
      kind: 'time',
      duration: 10,
      buckets: [
        { index: 2, calls: 2, failures: 2, slow: 0 },
        { index: 4, calls: 1, failures: 0, slow: 1 },
      ],
    });
    const restored = new TimeWindow(10);
    restored.restore(snapshot);
    expect(restored.totals(5)).toEqual(window.totals(5));
    const other = new TimeWindow(20);
    other.restore(snapshot);
    expect(other.totals(5)).toEqual({ calls: 0, failures: 0, slow: 0 });
  });

  it('agrees with "floor(now / width) - floor(t / width) < TIME_BUCKETS" over every call (property)', () => {
    const call = fc.record({ gap: fc.nat(15), outcome: fc.constantFrom<Outcome>(0, 1, 2, 3) });
    fc.assert(
      fc.property(fc.constantFrom(10, 20, 50), fc.array(call), fc.nat(30), (duration, calls, later) => {
        const window = new TimeWindow(duration);
        const width = duration / TIME_BUCKETS;
        let now = 0;
        const recorded: Array<{ at: number; outcome: Outcome }> = [];
        for (const c of calls) {
          now += c.gap;
          window.record(c.outcome, now);
          recorded.push({ at: now, outcome: c.outcome });
        }
        now += later;
        const live = recorded.filter((r) => Math.floor(now / width) - Math.floor(r.at / width) < TIME_BUCKETS);
        expect(window.totals(now)).toEqual({
          calls: live.length,
          failures: live.filter((r) => r.outcome & FAILED).length,
          slow: live.filter((r) => r.outcome & SLOW).length,
        });
      }),
    );
  });
});
