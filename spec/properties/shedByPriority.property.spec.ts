import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { QueueMetrics } from '../../src/metrics/QueueMetrics.js';
import { shedByPriority } from '../../src/operators/shedByPriority.js';

type Step = { kind: 'arrive'; rank: number } | { kind: 'request'; n: number };
type End = 'complete' | 'error' | 'unsubscribe';

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('arrive' as const), rank: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('request' as const), n: fc.integer({ min: 1, max: 4 }) }) },
);
const scenario = fc.record({
  capacity: fc.integer({ min: 1, max: 6 }),
  steps: fc.array(step, { maxLength: 80 }),
  end: fc.constantFrom<End>('complete', 'error', 'unsubscribe'),
});

interface Queued {
  value: number;
  rank: number;
}

/** The contract, written as plainly as possible: what should be emitted and dropped, in order. */
function model(capacity: number, steps: Step[], end: End): { emitted: number[]; dropped: string[] } {
  const queue: Queued[] = [];
  const emitted: number[] = [];
  const dropped: string[] = [];
  let credit = 0;
  let next = 0;
  const highest = (): number => {
    let at = 0;
    for (let i = 1; i < queue.length; i++) if (queue[i]!.rank > queue[at]!.rank) at = i;
    return at;
  };
  const drain = (): void => {
    while (credit > 0 && queue.length > 0) {
      credit--;
      emitted.push(queue.splice(highest(), 1)[0]!.value);
    }
  };
  for (const s of steps) {
    if (s.kind === 'request') {
      credit += s.n;
      drain();
      continue;
    }
    const value = next++;
    if (queue.length === 0 && credit > 0) {
      credit--;
      emitted.push(value);
    } else if (queue.length < capacity) {
      queue.push({ value, rank: s.rank });
    } else {
      const lowest = Math.min(...queue.map((q) => q.rank));
      if (lowest < s.rank) {
        const at = queue.findIndex((q) => q.rank === lowest);
        dropped.push(`${queue.splice(at, 1)[0]!.value}:evicted`);
        queue.push({ value, rank: s.rank });
      } else {
        dropped.push(`${value}:overflow`);
      }
    }
  }
  if (end === 'complete') {
    credit = Infinity;
    drain();
  } else {
    const reason = end === 'error' ? 'error' : 'cancelled';
    queue.sort((a, b) => b.rank - a.rank || a.value - b.value);
    for (const q of queue) dropped.push(`${q.value}:${reason}`);
  }
  return { emitted, dropped };
}

describe('shedByPriority (properties)', () => {
  it('emits and drops exactly what the contract says; conservation; never more queued than capacity or emitted than requested', () => {
    fc.assert(
      fc.property(scenario, ({ capacity, steps, end }) => {
        const source = new Subject<number>();
        const demand = new Subject<number>();
        const metrics = new QueueMetrics();
        const ranks: number[] = [];
        const emitted: number[] = [];
        const dropped: string[] = [];
        let requested = 0;
        let completed = false;
        const subscription = source
          .pipe(
            shedByPriority<number>({
              capacity,
              priority: (v) => ranks[v]!,
              demand,
              metrics,
              onDrop: (d) => dropped.push(`${d.value}:${d.reason}`),
            }),
          )
          .subscribe({ next: (v) => emitted.push(v), error: () => undefined, complete: () => (completed = true) });
        for (const s of steps) {
          if (s.kind === 'arrive') {
            ranks.push(s.rank);
            source.next(ranks.length - 1);
          } else {
            requested += s.n;
            demand.next(s.n);
          }
          expect(metrics.depth).toBeLessThanOrEqual(capacity);
          expect(emitted.length).toBeLessThanOrEqual(requested);
          expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
        }
        if (end === 'complete') {
          source.complete();
          demand.next(Infinity);
          expect(completed).toBe(true);
        } else if (end === 'error') source.error(new Error('upstream'));
        else subscription.unsubscribe();
        const expected = model(capacity, steps, end);
        expect(emitted).toEqual(expected.emitted);
        expect(dropped).toEqual(expected.dropped);
        const received = ranks.length;
        expect(received).toBe(emitted.length + dropped.length);
        expect(metrics.enqueued).toBe(received);
        expect(metrics.depth).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('with no credit at all, what stays queued is the top `capacity` values by priority (oldest first on ties)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 60 }),
        (capacity, ranks) => {
          const source = new Subject<number>();
          const demand = new Subject<number>();
          const emitted: number[] = [];
          source
            .pipe(shedByPriority<number>({ capacity, priority: (v) => ranks[v]!, demand }))
            .subscribe((v) => emitted.push(v));
          ranks.forEach((_, i) => source.next(i));
          source.complete();
          demand.next(Infinity);
          const kept = emitted.map((v) => ranks[v]!);
          // Delivered highest first.
          expect(kept).toEqual([...kept].sort((a, b) => b - a));
          // Nothing dropped outranks anything kept... except equals that arrived when the queue was full of equals.
          const keptSet = new Set(emitted);
          const droppedRanks = ranks.filter((_, i) => !keptSet.has(i));
          if (droppedRanks.length > 0 && kept.length > 0) {
            expect(Math.max(...droppedRanks)).toBeLessThanOrEqual(Math.min(...kept));
          }
          expect(emitted.length).toBe(Math.min(capacity, ranks.length));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
