import { Subject, of } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';
import { describe, expectTypeOf, test } from 'vitest';
import {
  CircuitBreaker,
  Demand,
  QueueMetrics,
  adaptiveBuffer,
  bufferBounded,
  circuitBreak,
  dropOnFull,
  retryAfter,
  shedByPriority,
  throttleTokenBucket,
} from 'rxjs-backpressure';
import type {
  AdaptiveBufferOptions,
  BufferBoundedOptions,
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  DemandInput,
  DrainOptions,
  DropHandler,
  DropOnFullOptions,
  Dropped,
  QueueAlertThresholds,
  QueueMetricsOptions,
  QueueOptions,
  RetryAfterOptions,
  ShedByPriorityOptions,
  ThrottleTokenBucketOptions,
} from 'rxjs-backpressure';
import { registerQueueMetrics } from 'rxjs-backpressure/prometheus';
import type { RegisterQueueMetricsOptions } from 'rxjs-backpressure/prometheus';
import type { RedisTokenBucketStoreOptions } from 'rxjs-backpressure/redis';

// Type tests: run by `npm test` (vitest typecheck, tsconfig.typecheck.json, exactOptionalPropertyTypes on). An unused
// `@ts-expect-error` is itself an error (TS2578), so each one below must really be one.

describe('the typecheck configuration', () => {
  test('has exactOptionalPropertyTypes on (an explicit undefined is rejected where the type does not allow it)', () => {
    const strict: { a?: number } = {};
    // @ts-expect-error with exactOptionalPropertyTypes, `a?: number` does not accept undefined
    const loose: { a?: number } = { a: undefined };
    expectTypeOf(strict).toEqualTypeOf(loose);
  });
});

describe('Demand', () => {
  test('a Demand is a DemandInput, and so is an ObservableInput of credits', () => {
    expectTypeOf<Demand>().toExtend<DemandInput>();
    expectTypeOf<Observable<number>>().toExtend<DemandInput>();
    expectTypeOf<number[]>().toExtend<DemandInput>();
    expectTypeOf<Observable<string>>().not.toExtend<DemandInput>();
  });

  test('demand.drain maps T to the project result type', () => {
    const demand = new Demand();
    expectTypeOf(of(1).pipe(demand.drain((n: number) => of(String(n))))).toEqualTypeOf<Observable<string>>();
  });
});

describe('operators keep T', () => {
  test('every queue operator, the throttle and the breaker are MonoTypeOperatorFunction<T>', () => {
    expectTypeOf(bufferBounded<string>({ capacity: 1 })).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
    expectTypeOf(dropOnFull<string>({ capacity: 1 })).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
    expectTypeOf(adaptiveBuffer<string>({ minCapacity: 1, maxCapacity: 2, targetLatency: 10 })).toEqualTypeOf<
      MonoTypeOperatorFunction<string>
    >();
    expectTypeOf(shedByPriority<string>({ capacity: 1, priority: (s) => s.length })).toEqualTypeOf<
      MonoTypeOperatorFunction<string>
    >();
    expectTypeOf(throttleTokenBucket<string>({ rate: 1 })).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
    expectTypeOf(circuitBreak<string>({})).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
    expectTypeOf(retryAfter<string>()).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
  });

  test('T is inferred from the source in a pipe', () => {
    const out = of('a', 'b').pipe(
      dropOnFull({ capacity: 1 }),
      bufferBounded({ capacity: 1 }),
      throttleTokenBucket({ rate: 1 }),
      circuitBreak(new CircuitBreaker({})),
    );
    expectTypeOf(out).toEqualTypeOf<Observable<string>>();
  });

  test('callbacks receive T', () => {
    of({ id: 1 }).pipe(
      throttleTokenBucket({ rate: 1, cost: (job) => expectTypeOf(job).toEqualTypeOf<{ id: number }>() && job.id }),
      shedByPriority({ capacity: 1, priority: (job) => job.id }),
    );
  });
});

describe('onDrop', () => {
  test('accepts a Subject<Dropped<T>>, a function and a partial Observer', () => {
    const drops = new Subject<Dropped<string>>();
    expectTypeOf(drops).toExtend<DropHandler<string>>();
    of('a').pipe(dropOnFull({ capacity: 1, onDrop: drops }));
    of('a').pipe(throttleTokenBucket({ rate: 1, onDrop: drops }));
    of('a').pipe(bufferBounded({ capacity: 1, onDrop: (d) => expectTypeOf(d).toEqualTypeOf<Dropped<string>>() }));
    of('a').pipe(adaptiveBuffer({ minCapacity: 1, maxCapacity: 2, targetLatency: 1, onDrop: { next: () => {} } }));
  });

  test('a Subject of drops of another type does not fit', () => {
    const numbers = new Subject<Dropped<number>>();
    // @ts-expect-error the drops of a string stream are Dropped<string>
    of('a').pipe(dropOnFull({ capacity: 1, onDrop: numbers }));
    // @ts-expect-error a Subject of values is not a Subject of drops
    dropOnFull<string>({ capacity: 1, onDrop: new Subject<string>() });
  });
});

describe('bad option types fail to compile', () => {
  test('wrong types and missing required options', () => {
    // @ts-expect-error capacity is a number
    dropOnFull({ capacity: '3' });
    // @ts-expect-error capacity is required
    bufferBounded({});
    // @ts-expect-error overflow is one of the named policies
    dropOnFull({ capacity: 3, overflow: 'drop-all' });
    // @ts-expect-error mode is 'shape' | 'drop' | 'error' | ...
    throttleTokenBucket({ rate: 1, mode: 'block' });
    // @ts-expect-error rate is required
    throttleTokenBucket({ per: 1000 });
    // @ts-expect-error a demand is a stream of numbers, not of strings
    dropOnFull({ capacity: 3, demand: of('1') });
    // @ts-expect-error failureThreshold is a number
    new CircuitBreaker({ failureThreshold: '5' });
    // @ts-expect-error slidingWindow needs its kind
    circuitBreak({ slidingWindow: { size: 10 } });
    // @ts-expect-error priority returns a number
    shedByPriority<string>({ capacity: 1, priority: (s: string) => s });
    // @ts-expect-error an unknown option is an excess property
    dropOnFull({ capacity: 3, capcity: 4 });
  });
});

/** The optional keys of O. */
type OptionalKeys<O> = { [K in keyof O]-?: object extends Pick<O, K> ? K : never }[keyof O];
/** The optional keys of O whose type does not include undefined (what exactOptionalPropertyTypes would reject). */
type RejectsUndefined<O> = { [K in OptionalKeys<O>]-?: undefined extends Required<O>[K] ? never : K }[OptionalKeys<O>];

describe('every optional option also accepts undefined (exactOptionalPropertyTypes)', () => {
  test('the checker itself: it names an optional key without undefined, and only that one', () => {
    expectTypeOf<RejectsUndefined<{ a?: number; b?: string | undefined; c: number }>>().toEqualTypeOf<'a'>();
  });

  test('every public options type: no optional key rejects undefined', () => {
    expectTypeOf<RejectsUndefined<AdaptiveBufferOptions<string>>>().toBeNever();
    expectTypeOf<RejectsUndefined<BufferBoundedOptions<string>>>().toBeNever();
    expectTypeOf<RejectsUndefined<CircuitBreakerOptions>>().toBeNever();
    expectTypeOf<RejectsUndefined<CircuitBreakerSnapshot>>().toBeNever();
    expectTypeOf<RejectsUndefined<DrainOptions<string>>>().toBeNever();
    expectTypeOf<RejectsUndefined<DropOnFullOptions<string>>>().toBeNever();
    expectTypeOf<RejectsUndefined<QueueAlertThresholds>>().toBeNever();
    expectTypeOf<RejectsUndefined<QueueMetricsOptions>>().toBeNever();
    expectTypeOf<RejectsUndefined<QueueOptions<string>>>().toBeNever();
    expectTypeOf<RejectsUndefined<RedisTokenBucketStoreOptions>>().toBeNever();
    expectTypeOf<RejectsUndefined<RegisterQueueMetricsOptions>>().toBeNever();
    expectTypeOf<RejectsUndefined<RetryAfterOptions>>().toBeNever();
    expectTypeOf<RejectsUndefined<ShedByPriorityOptions<string>>>().toBeNever();
    expectTypeOf<RejectsUndefined<ThrottleTokenBucketOptions<string>>>().toBeNever();
  });

  const onDrop = undefined as DropHandler<string> | undefined;
  const scheduler = undefined as SchedulerLike | undefined;
  const count = undefined as number | undefined;

  test('a call forwarding possibly-undefined options compiles (the call the issue reported)', () => {
    of('a').pipe(throttleTokenBucket({ rate: 1, onDrop, scheduler }));
    of('a').pipe(dropOnFull({ capacity: 1, overflow: undefined, onDrop, scheduler, demand: undefined }));
    of('a').pipe(bufferBounded({ capacity: 1, upstream: undefined, onDrop, metrics: undefined }));
    of('a').pipe(shedByPriority({ capacity: 1, priority: () => 0, onDrop, scheduler }));
    of('a').pipe(adaptiveBuffer({ minCapacity: 1, maxCapacity: 2, targetLatency: 10, initialCapacity: count }));
    of('a').pipe(circuitBreak({ failureThreshold: count, isFailure: undefined, scheduler }));
    of('a').pipe(retryAfter({ maxAttempts: count, status: undefined, scheduler }));
    new QueueMetrics({ scheduler }).alerts({ interval: count, dropRate: undefined });
    new Demand().drain((n: number) => of(n), { concurrency: count });
    const snapshot = new CircuitBreaker({}).toJSON();
    new CircuitBreaker({ initialState: { ...snapshot, window: undefined } });
    expectTypeOf(registerQueueMetrics).toBeCallableWith(new QueueMetrics(), { name: 'q', registry: undefined });
  });
});
