/**
 * The one registry of the library's operators under test, described once so every suite covers the same list: the
 * contract suite (spec/contract/contract.spec.ts: never, empty, values, errors, unsubscription, plumbing) and the
 * reliability suites (laws, re-entrancy, fuzzing, throwing callbacks, retention, soak). Adding an operator to the
 * library means registering it here.
 */
import { concat, interval, of } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';
import {
  QueueMetrics,
  bufferBounded,
  dropOnFull,
  latestPerFrame,
  shedByPriority,
  throttleTokenBucket,
} from '../../src/index.js';
import type { DemandInput, DropReason, Dropped } from '../../src/index.js';
import { adaptiveBuffer } from '../../src/operators/adaptiveBuffer.js';

/**
 * A virtual clock whose time moves only when told (`advance(ms)`), with the pending actions visible (`actions`); it
 * fails with 'runaway scheduler' on an action that keeps rescheduling itself instead of hanging. The same clock
 * checkLaws of rxjs-backpressure/testing runs on.
 */
export { Clock } from '../../src/testing/laws.js';

/** What a subject is built with in the law and retention suites. */
export interface Wiring<T> {
  capacity: number;
  /** Undefined for operators without a demand option. */
  demand: DemandInput | undefined;
  onDrop: (drop: Dropped<T>) => void;
  metrics: QueueMetrics;
  scheduler: SchedulerLike;
}

export interface RegisteredOperator {
  name: string;
  /** True if the operator takes `demand` (and so obeys request(n)). */
  demand: boolean;
  /** True if the operator takes `metrics`. */
  metrics: boolean;
  /** Emission order it promises: 'fifo' overall, or FIFO within a priority (`priorityOf`). */
  order: 'fifo' | 'priority';
  /** Drop reasons that may appear before the stream ends (terminal reasons 'error' and 'cancelled' are always allowed). */
  reasons: readonly DropReason[];
  /** Most values it may hold at once for a given capacity. */
  bound(capacity: number): number;
  build<T>(wiring: Wiring<T>): MonoTypeOperatorFunction<T>;
}

/** Priority used for shedByPriority subjects: three levels. */
export const priorityOf = (value: unknown): number => (typeof value === 'number' ? value % 3 : 0);

/** A deterministic random() for earlyDrop: a fixed LCG, so runs are reproducible from the fast-check seed alone. */
export function lcg(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const queueWiring = <T>(w: Wiring<T>) => ({
  capacity: w.capacity,
  onDrop: w.onDrop,
  metrics: w.metrics,
  scheduler: w.scheduler,
  ...(w.demand === undefined ? {} : { demand: w.demand }),
});

const queue = (
  name: string,
  reasons: readonly DropReason[],
  build: RegisteredOperator['build'],
): RegisteredOperator => ({
  name,
  demand: true,
  metrics: true,
  order: 'fifo',
  reasons,
  bound: (capacity) => capacity,
  build,
});

/** Every queue operator of the library, with each overflow policy and mode as its own subject. */
export const OPERATORS: readonly RegisteredOperator[] = [
  queue('bufferBounded', [], (w) => bufferBounded(queueWiring(w))),
  ...(['drop-incoming', 'drop-oldest', 'drop-newest', 'drop-buffer'] as const).map((overflow) =>
    queue(`dropOnFull ${overflow}`, [overflow === 'drop-incoming' ? 'overflow' : 'evicted'], (w) =>
      dropOnFull({ ...queueWiring(w), overflow }),
    ),
  ),
  queue('dropOnFull earlyDrop', ['early', 'evicted'], (w) =>
    dropOnFull({ ...queueWiring(w), overflow: 'drop-oldest', earlyDrop: (f) => f * f, random: lcg(w.capacity) }),
  ),
  {
    ...queue('shedByPriority', ['evicted', 'overflow'], (w) =>
      shedByPriority({ ...queueWiring(w), priority: priorityOf }),
    ),
    order: 'priority',
  },
  ...(['drop-incoming', 'drop-oldest'] as const).map((overflow) =>
    queue(`adaptiveBuffer ${overflow}`, ['overflow', 'evicted'], (w) => {
      const { capacity, ...rest } = queueWiring(w);
      return adaptiveBuffer({
        ...rest,
        minCapacity: 1,
        maxCapacity: capacity,
        targetLatency: 2,
        interval: 3,
        overflow,
      });
    }),
  ),
  ...(['shape', 'drop', 'error', 'latest'] as const).map((mode): RegisteredOperator => ({
    name: `throttleTokenBucket ${mode}`,
    demand: false,
    metrics: true,
    order: 'fifo',
    reasons: mode === 'shape' ? ['overflow', 'expired'] : mode === 'error' ? [] : ['rate'],
    bound: (capacity) => (mode === 'shape' ? capacity : mode === 'latest' ? 1 : 0),
    build: (w) =>
      throttleTokenBucket({
        rate: 1,
        per: 2,
        burst: 2,
        mode,
        capacity: w.capacity,
        onDrop: w.onDrop,
        metrics: w.metrics,
        scheduler: w.scheduler,
        ...(mode === 'shape' ? { maxWait: 7 } : {}),
      }),
  })),
  {
    // A one-slot queue whose credit is a frame: an arrival evicts what it holds, a frame emits it. Its frame clock here
    // ticks once when subscribed, then every 2 ms: a value that finds the holder idle subscribes it and goes out at
    // once (so the contract's straight-through checks apply to it as to a queue with credit), and values that arrive
    // while one goes out (pushed back from next) wait for the next tick, replacing each other. Frames that come only
    // later are latestPerFrame's own spec and property.
    name: 'latestPerFrame',
    demand: false,
    metrics: false,
    order: 'fifo',
    reasons: ['evicted'],
    bound: () => 1,
    build: (w) =>
      latestPerFrame({ frames: concat(of(0), interval(2, w.scheduler)), onDrop: w.onDrop, scheduler: w.scheduler }),
  },
];

/** Only the operators that obey request(n). */
export const DEMAND_OPERATORS = OPERATORS.filter((s) => s.demand);

/** Runs per property: env PROPERTY_RUNS, else `fallback`. */
export function propertyRuns(fallback: number): number {
  const n = Number(process.env['PROPERTY_RUNS']);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

export const DEEP = process.env['DEEP'] === '1';
