/**
 * The laws of a linked pipeline, on random schedules: a push source (or a pull() of an array), a queue operator
 * given no Demand, rxjs operators that swallow values between it and a free drain, random project durations and
 * failures, completion and unsubscription, all on a virtual clock. After every step:
 *
 * - bound: never more projects running than `concurrency`; never more queued than capacity (+ what is in transit);
 * - and once the run has ended (complete, error or unsubscribe), conservation at each stage:
 *   queue: received = emitted + dropped; between: emitted by the queue = reached the drain + swallowed (never
 *   negative); drain: reached = finished + reported (failed / error / cancelled);
 * - no stall: once the source has completed and time has passed, the pipeline has completed or errored.
 *
 * Runs: env PROPERTY_RUNS (default 1000 per producer kind).
 */
import fc from 'fast-check';
import { Subject, distinctUntilChanged, filter, map, skip, take, tap, throttleTime, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, ObservableInput } from 'rxjs';
import { describe, it } from 'vitest';
import { QueueMetrics, bufferBounded, drain, dropOnFull, pull, shedByPriority } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';
import { Clock, propertyRuns } from '../contract/registry.js';

type Between = 'filter' | 'take' | 'skip' | 'distinct' | 'throttle' | 'map';
type Queue = 'none' | 'drop-incoming' | 'drop-oldest' | 'drop-newest' | 'drop-buffer' | 'priority' | 'buffer';

interface Plan {
  queue: Queue;
  capacity: number;
  between: Between[];
  concurrency: number;
  /** Per value: frames its project takes (0 = synchronous), and whether it fails. */
  work: { frames: number; fails: boolean }[];
  onError: 'stop' | 'continue';
  steps: (
    { kind: 'next'; count: number } | { kind: 'advance'; ms: number } | { kind: 'complete' } | { kind: 'unsubscribe' }
  )[];
}

function law(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function betweenOperator(kind: Between, clock: Clock): MonoTypeOperatorFunction<number> {
  switch (kind) {
    case 'filter':
      return filter((x) => x % 3 !== 1);
    case 'take':
      return take(7);
    case 'skip':
      return skip(3);
    case 'distinct':
      return distinctUntilChanged((a, b) => a % 4 === b % 4);
    case 'throttle':
      return throttleTime(2, clock);
    case 'map':
      return map((x) => x);
  }
}

function queueOperator(plan: Plan, clock: Clock, metrics: QueueMetrics, onDrop: (d: Dropped<number>) => void) {
  const common = { capacity: plan.capacity, onDrop, metrics, scheduler: clock };
  switch (plan.queue) {
    case 'none':
      return (s: Observable<number>) => s;
    case 'priority':
      return shedByPriority<number>({ ...common, priority: (x) => x % 3 });
    case 'buffer':
      return bufferBounded<number>(common);
    default:
      return dropOnFull<number>({ ...common, overflow: plan.queue });
  }
}

function run(plan: Plan, producer: 'push' | 'pull'): void {
  const clock = new Clock();
  const metrics = new QueueMetrics({ scheduler: clock });
  const source = new Subject<number>();
  let next = 0;
  const counts = { queueIn: 0, queueOut: 0, queueDropped: 0, reached: 0, finished: 0, drainDropped: 0 };
  let running = 0;
  let end: 'running' | 'complete' | 'error' | 'unsubscribed' = 'running';
  let sourceDone = false;

  const input: Observable<number> =
    producer === 'pull' ? pull(Array.from({ length: 40 }, (_, i) => i)) : source.asObservable();
  const project = (x: number): ObservableInput<number> => {
    const work = plan.work[x % plan.work.length]!;
    running++;
    law(running <= plan.concurrency, `${running} projects running, concurrency ${plan.concurrency}`);
    const done = () => {
      running--;
    };
    if (work.frames === 0) {
      done();
      if (work.fails) throw new Error(`fail ${x}`);
      return [x];
    }
    return timer(work.frames, clock).pipe(
      map(() => {
        if (work.fails) throw new Error(`fail ${x}`);
        return x;
      }),
      tap({ finalize: done }),
    );
  };

  let pipeline = input.pipe(
    tap(() => counts.queueIn++),
    queueOperator(plan, clock, metrics, () => counts.queueDropped++),
    tap(() => counts.queueOut++),
  );
  for (const kind of plan.between) pipeline = pipeline.pipe(betweenOperator(kind, clock));
  const output = pipeline.pipe(
    tap(() => counts.reached++),
    drain(project, {
      concurrency: plan.concurrency,
      onError: plan.onError,
      onDrop: () => counts.drainDropped++,
    }),
    tap(() => counts.finished++),
  );
  const subscription = output.subscribe({
    error: () => (end = 'error'),
    complete: () => (end = 'complete'),
  });

  const checkBounds = (): void => {
    if (plan.queue !== 'none') {
      law(metrics.depth <= plan.capacity + plan.concurrency, `queue depth ${metrics.depth} > ${plan.capacity}+`);
    }
  };
  for (const step of plan.steps) {
    if (end !== 'running') break;
    switch (step.kind) {
      case 'next':
        if (producer === 'push' && !sourceDone) for (let i = 0; i < step.count; i++) source.next(next++);
        break;
      case 'advance':
        clock.advance(step.ms);
        break;
      case 'complete':
        sourceDone = true;
        source.complete();
        break;
      case 'unsubscribe':
        subscription.unsubscribe();
        end = 'unsubscribed';
        break;
    }
    checkBounds();
  }
  if (end === 'running') {
    // No stall: once the source is done, the pipeline ends within the time its work takes.
    if (!sourceDone) source.complete();
    clock.advance(10_000);
    const ended: string = end;
    law(ended === 'complete' || ended === 'error', `stalled: ${JSON.stringify(counts)}, ${metrics.depth} queued`);
  }
  subscription.unsubscribe();
  law(clock.actions.length === 0, `${clock.actions.length} actions left on the scheduler`);
  law(counts.queueIn === counts.queueOut + counts.queueDropped, `queue: ${JSON.stringify(counts)}`);
  law(counts.reached <= counts.queueOut, `more reached the drain than the queue emitted: ${JSON.stringify(counts)}`);
  // every value that reached the drain finished (one result each here) or was reported, exactly once
  law(counts.reached === counts.finished + counts.drainDropped, `drain: ${JSON.stringify(counts)}`);
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  queue: fc.constantFrom<Queue>(
    'none',
    'drop-incoming',
    'drop-oldest',
    'drop-newest',
    'drop-buffer',
    'priority',
    'buffer',
  ),
  capacity: fc.integer({ min: 1, max: 6 }),
  between: fc.array(fc.constantFrom<Between>('filter', 'take', 'skip', 'distinct', 'throttle', 'map'), {
    maxLength: 3,
  }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  work: fc.array(
    fc.record({ frames: fc.integer({ min: 0, max: 4 }), fails: fc.integer({ min: 0, max: 9 }).map((n) => n < 2) }),
    {
      minLength: 1,
      maxLength: 8,
    },
  ),
  onError: fc.constantFrom<'stop' | 'continue'>('stop', 'continue'),
  steps: fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({ kind: fc.constant('next' as const), count: fc.integer({ min: 1, max: 5 }) }),
      },
      {
        weight: 4,
        arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 4 }) }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'complete' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'unsubscribe' as const }) },
    ),
    { maxLength: 40 },
  ),
});

describe('a linked pipeline (queue or pull, rxjs operators between, drain) on random schedules', () => {
  it.each(['push', 'pull'] as const)('%s producer: bounded, conserving, never stalled', (producer) => {
    fc.assert(
      fc.property(planArb, (plan) => run(plan, producer)),
      { numRuns: propertyRuns(1000) },
    );
  });
});
