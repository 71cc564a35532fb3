/**
 * Re-entrancy at scale: 10^6 values through every queue operator and through Demand.drain with a consumer that calls
 * request(1) synchronously inside next. Any recursion per value would overflow the stack long before 10^6 (node's
 * default stack holds about 10^4 frames of this depth), so completing is the proof.
 *
 * Three shapes per queue operator:
 * - queued: 10^6 values queued first (capacity 10^6, no credit), then request(1) and one more request(1) per value
 *   inside next: the engine's drain loop runs 10^6 times with re-entrant credit;
 * - straight through: a synchronous source with one credit outstanding, renewed inside next;
 * - feedback: the consumer pushes the next value into the source from inside next (a re-entrant arrival).
 * The last two run 10^5 values in CI and 10^6 under `npm run test:deep` (DEEP=1), to keep the suite inside its time.
 * throttleTokenBucket has no request(n); it takes the feedback shape in mode 'shape' only: in 'drop' and 'error' an
 * admitted value goes straight through, so a synchronous feedback loop recurses in the consumer's own Subject, as it
 * would through `map` (not the operator's stack to bound).
 */
import { Observable, Subject, range } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, bufferBounded, pull } from '../../src/index.js';
import { OPERATORS, Clock, DEEP, DEMAND_OPERATORS } from '../contract/registry.js';
import type { RegisteredOperator } from '../contract/registry.js';

const N = 1_000_000;
/** The shapes beyond the (straight-through, feedback, the three-stage drain) run 10^5 in CI, 10^6 when DEEP. */
const M = DEEP ? N : 100_000;

interface Outcome {
  emitted: number;
  dropped: number;
  inOrder: boolean;
  completed: boolean;
  error: unknown;
}

function consume<T extends number>(
  source: Observable<T>,
  onValue: (value: T) => void,
): { outcome: Outcome; start: () => void } {
  const outcome: Outcome = { emitted: 0, dropped: 0, inOrder: true, completed: false, error: undefined };
  let last = -1;
  return {
    outcome,
    start: () => {
      source.subscribe({
        next: (value) => {
          if (value <= last) outcome.inOrder = false;
          last = value;
          outcome.emitted++;
          onValue(value);
        },
        error: (e: unknown) => (outcome.error = e),
        complete: () => (outcome.completed = true),
      });
    },
  };
}

function build(
  c: RegisteredOperator,
  capacity: number,
  demand: Demand | undefined,
  onDropped: () => void,
  clock: Clock,
) {
  return c.build<number>({ capacity, demand, onDrop: onDropped, metrics: new QueueMetrics(), scheduler: clock });
}

describe('re-entrant request(1) inside next, 10^6 values', () => {
  for (const c of DEMAND_OPERATORS) {
    it(`${c.name}: 10^6 queued values drained one credit at a time from inside next`, () => {
      const clock = new Clock();
      const demand = new Demand();
      const source = new Subject<number>();
      let dropped = 0;
      const run = consume(source.pipe(build(c, N, demand, () => dropped++, clock)), () => demand.request(1));
      run.start();
      for (let i = 0; i < N; i++) source.next(i);
      source.complete();
      demand.request(1);
      expect(run.outcome.error).toBeUndefined();
      expect(run.outcome.completed).toBe(true);
      expect(run.outcome.emitted + dropped).toBe(N);
      expect(run.outcome.emitted).toBeGreaterThan(0);
      if (c.order === 'fifo') expect(run.outcome.inOrder).toBe(true);
    });

    it(`${c.name}: a synchronous source of ${M} values, one credit renewed inside next`, () => {
      const clock = new Clock();
      const demand = new Demand();
      let dropped = 0;
      const run = consume(range(0, M).pipe(build(c, 4, demand, () => dropped++, clock)), () => demand.request(1));
      demand.request(1);
      run.start();
      expect(run.outcome.error).toBeUndefined();
      expect(run.outcome.completed).toBe(true);
      expect(run.outcome.emitted + dropped).toBe(M);
      if (c.order === 'fifo') expect(run.outcome.inOrder).toBe(true);
    });
  }

  for (const c of OPERATORS.filter((x) => x.demand || x.name.endsWith('shape'))) {
    it(`${c.name}: the consumer feeds the next value into the source from inside next, ${M} times`, () => {
      const clock = new Clock();
      const demand = c.demand ? new Demand() : undefined;
      const source = new Subject<number>();
      let dropped = 0;
      let fed = 0;
      const feed = (): void => {
        if (fed < M) source.next(fed++);
        else source.complete();
      };
      const run = consume(source.pipe(build(c, 4, demand, () => dropped++, clock)), () => {
        demand?.request(1);
        feed();
      });
      demand?.request(1);
      run.start();
      feed();
      // a shaping bucket lets two values through per 4 ms; let virtual time pass until the loop is done
      for (let guard = 0; !run.outcome.completed && guard < 4 * M; guard++) clock.advance(2);
      expect(run.outcome.error).toBeUndefined();
      expect(run.outcome.completed).toBe(true);
      expect(run.outcome.emitted + dropped).toBe(M);
      if (c.order === 'fifo') expect(run.outcome.inOrder).toBe(true);
    });
  }
});

describe('re-entrant request(1) in Demand.drain, 10^6 values', () => {
  function* numbers(count = N): Generator<number> {
    for (let i = 0; i < count; i++) yield i;
  }

  it('pull -> drain with a synchronous inner observable', () => {
    const demand = new Demand();
    const run = consume(pull(numbers(), demand).pipe(demand.drain((v: number) => [v])), () => undefined);
    run.start();
    expect(run.outcome.error).toBeUndefined();
    expect(run.outcome.completed).toBe(true);
    expect(run.outcome.emitted).toBe(N);
    expect(run.outcome.inOrder).toBe(true);
  });

  it('bufferBounded -> drain with a synchronous inner observable, concurrency 3', () => {
    const demand = new Demand();
    const source = new Subject<number>();
    const run = consume(
      source.pipe(
        bufferBounded({ capacity: N, demand }),
        demand.drain((v: number) => [v], { concurrency: 3 }),
      ),
      () => undefined,
    );
    run.start();
    for (let i = 0; i < N; i++) source.next(i);
    source.complete();
    expect(run.outcome.error).toBeUndefined();
    expect(run.outcome.completed).toBe(true);
    expect(run.outcome.emitted).toBe(N);
    expect(run.outcome.inOrder).toBe(true);
  });

  it(`pull -> bufferBounded (upstream) -> drain: the producer blocked by the buffer, ${M} values`, () => {
    const produced = new Demand();
    const consumed = new Demand();
    const run = consume(
      pull(numbers(M), produced).pipe(
        bufferBounded({ capacity: 8, upstream: produced, demand: consumed }),
        consumed.drain((v: number) => [v], { concurrency: 2 }),
      ),
      () => undefined,
    );
    run.start();
    expect(run.outcome.error).toBeUndefined();
    expect(run.outcome.completed).toBe(true);
    expect(run.outcome.emitted).toBe(M);
    expect(run.outcome.inOrder).toBe(true);
  });
});
