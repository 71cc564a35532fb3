/**
 * Option fuzzing: random option objects for every operator and constructor that takes options (wrong types, NaN,
 * negative, fractional, Infinity, huge, missing and extra keys, non-objects). Each either
 *
 * - throws TypeError or RangeError at the call, with a message that starts with the operator's name and names an
 *   option (a known key, a key of the object, or `options` itself); or
 * - constructs an operator that works: a short stream through it (values, credits, virtual time, unsubscribe) ends
 *   without an error other than the stream behaviour the contract defines (BufferOverflowError, RateLimitExceededError,
 *   CircuitOpenError, CallTimeoutError, or the RangeError of a callback or credit stream the fuzzer made return a bad
 *   number on purpose), accounts for every value it received, emits nothing after it ends, and leaves no action on
 *   the scheduler.
 *
 * Runs per operator: env FUZZ_RUNS, default 10 000 (QueueMetrics and pull: a tenth).
 */
import fc from 'fast-check';
import { Observable, Subject, from, of, tap, throwError } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { describe, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import {
  Demand,
  QueueMetrics,
  bufferBounded,
  dropOnFull,
  isBackpressureError,
  pull,
  shedByPriority,
  throttleTokenBucket,
} from '../../src/index.js';
import { adaptiveBuffer } from '../../src/operators/adaptiveBuffer.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';
import { Clock } from '../contract/registry.js';

const fuzzRuns = ((): number => {
  const n = Number(process.env['FUZZ_RUNS']);
  return Number.isSafeInteger(n) && n > 0 ? n : 10_000;
})();

function law(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

/** Values that are wrong for almost every option. */
const garbage: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, -0, 0.5, 1.5, 1e308, 2 ** 53, -(2 ** 31), Number.MIN_VALUE),
  fc.double(),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.string({ maxLength: 4 }),
  fc.constantFrom(null, true, false, [], {}, [1, 2], () => 1, 10n, Symbol('s'), new Date(0), /x/),
);

/** Good values only: garbage is mixed in per run by optionsArb (half the runs are clean, so both outcomes occur). */
const either = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => good as fc.Arbitrary<unknown>;

/** Objects the fuzzer made wrong on purpose in a way only the running stream can see (a callback's return value). */
const lawfulStreamErrors = new WeakSet<object>();
function badAtRuntime<T extends object>(value: T): T {
  lawfulStreamErrors.add(value);
  return value;
}

/** Per run: the clock and the recorders the generated options point at. */
interface Context {
  clock: Clock;
  dropped: number;
  /** True when the onDrop chosen is one of the recorders that count into `dropped`. */
  countable: boolean;
}

type Gen = (ctx: Context) => unknown;
const g = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<Gen> => arb.map((v) => () => v);

const positiveInt = either(
  fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(2 ** 31, Number.MAX_SAFE_INTEGER)),
);
const positiveNum = either(fc.oneof(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.constantFrom(1e-300, 1e300)));
const unit = either(fc.double({ min: 0, max: 1, noNaN: true }));

const gens = {
  int: positiveInt.map((v) => () => v),
  num: positiveNum.map((v) => () => v),
  unit: unit.map((v) => () => v),
  scheduler: fc.oneof(
    { weight: 8, arbitrary: fc.constant<Gen>((ctx) => ctx.clock) },
    { weight: 1, arbitrary: g(garbage) },
    { weight: 1, arbitrary: g(fc.constant({ now: 1, schedule: 2 })) },
  ),
  onDrop: fc.oneof(
    fc.constant<Gen>((ctx) => {
      ctx.countable = true;
      return () => ctx.dropped++;
    }),
    fc.constant<Gen>((ctx) => {
      ctx.countable = true;
      const drops = new Subject<unknown>();
      drops.subscribe(() => ctx.dropped++);
      return drops;
    }),
    fc.constant<Gen>((ctx) => {
      ctx.countable = true;
      return { next: () => ctx.dropped++ };
    }),
    fc.constant<Gen>(() => ({ complete: () => undefined })),
    g(garbage),
    g(fc.constant({ next: 'not a function' })),
  ),
  metrics: fc.oneof(
    fc.constant<Gen>((ctx) => new QueueMetrics({ scheduler: ctx.clock })),
    g(garbage),
    g(fc.constant({ depth: 0 })),
  ),
  demand: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Gen>(() => new Demand()) },
    {
      weight: 2,
      arbitrary: g(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(Infinity)), { minLength: 1, maxLength: 3 }),
      ),
    },
    { weight: 1, arbitrary: fc.constant<Gen>(() => of(2, 3)) },
    { weight: 1, arbitrary: fc.constant<Gen>(() => badAtRuntime([1, 0])) },
    { weight: 1, arbitrary: fc.constant<Gen>(() => badAtRuntime(of(1.5))) },
    { weight: 1, arbitrary: fc.constant<Gen>(() => throwError(() => new Error('demand stream failed'))) },
    { weight: 2, arbitrary: g(garbage) },
  ),
  upstream: fc.oneof(
    fc.constant<Gen>(() => new Demand()),
    g(garbage),
    g(fc.constant(of(1))),
  ),
  callback: (good: () => (...args: never[]) => unknown, bad: () => (...args: never[]) => unknown) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant<Gen>(() => good()) },
      { weight: 1, arbitrary: fc.constant<Gen>(() => badAtRuntime(bad())) },
      { weight: 1, arbitrary: g(garbage) },
    ),
  oneOf: <S extends string>(values: readonly S[]) => either(fc.constantFrom(...values)).map((v) => () => v),
};

/** An options object: each key present or missing, sometimes an extra key, sometimes not an object at all. */
function optionsArb(cleanKeys: Record<string, fc.Arbitrary<Gen>>): fc.Arbitrary<Gen> {
  const dirtyKeys = Object.fromEntries(
    Object.entries(cleanKeys).map(([k, arb]) => [
      k,
      fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: g(garbage) }),
    ]),
  );
  const record = fc.oneof(fc.record(cleanKeys, { requiredKeys: [] }), fc.record(dirtyKeys, { requiredKeys: [] }));
  const extra = fc.oneof(
    { weight: 7, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('capcity', 'extra', 'toString', 'constructor', 'onDrops') },
  );
  return fc.oneof(
    {
      weight: 30,
      arbitrary: fc.tuple(record, extra, fc.boolean()).map(([r, x, asUndefined]) => (ctx: Context) => {
        const o: Record<string, unknown> = {};
        for (const [k, gen] of Object.entries(r)) o[k] = (gen as Gen)(ctx);
        if (x !== null) o[x] = asUndefined ? undefined : 1;
        return o;
      }),
    },
    { weight: 1, arbitrary: g(garbage) },
  );
}

/** A readable rendering of generated options for failure messages. */
function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'function') return `fn:${v.toString().slice(0, 40)}`;
      if (typeof v === 'bigint' || typeof v === 'symbol') return String(v);
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      if (v instanceof Demand) return 'Demand';
      if (v instanceof QueueMetrics) return 'QueueMetrics';
      if (v instanceof Clock) return 'Clock';
      if (v instanceof Observable) return 'Observable';
      return v;
    });
  } catch {
    return String(value);
  }
}

/** Runs `check` and, if it fails, says which options it failed for. */
function explained(options: unknown, check: () => void): void {
  try {
    check();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  options: ${show(options)}`, { cause: error });
  }
}

/** Construction failed: the right kind of error, naming the operator and an option. */
function checkRejection(operator: string, known: readonly string[], options: unknown, error: unknown): void {
  law(error instanceof TypeError || error instanceof RangeError, `${operator} threw ${String(error)}`);
  const message = (error as Error).message;
  law(message.startsWith(`${operator}`), `message does not name ${operator}: ${message}`);
  const keys = typeof options === 'object' && options !== null ? Object.keys(options) : [];
  law(
    [...known, ...keys, 'options'].some((k) => message.includes(k)),
    `message names no option: ${message}`,
  );
}

/** Options the fuzzer made fail at runtime on purpose. */
function hasLawfulStreamError(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) return false;
  return Object.values(options).some((v) =>
    typeof v === 'object' || typeof v === 'function' ? v !== null && lawfulStreamErrors.has(v) : false,
  );
}

/** Runs a short stream through a constructed queue operator / throttle and checks it behaves. */
function exercise(
  operator: string,
  op: MonoTypeOperatorFunction<number>,
  options: Record<string, unknown>,
  ctx: Context,
): void {
  const { clock } = ctx;
  const source = new Subject<number>();
  let received = 0;
  let emitted = 0;
  let end: 'running' | 'complete' | 'error' = 'running' as 'running' | 'complete' | 'error';
  let error: unknown;
  let afterEnd = 0;
  const subscription = source
    .pipe(
      tap(() => received++),
      op,
    )
    .subscribe({
      next: () => {
        if (end !== 'running') afterEnd++;
        emitted++;
      },
      error: (e: unknown) => {
        if (end !== 'running') afterEnd++;
        end = 'error';
        error = e;
      },
      complete: () => {
        if (end !== 'running') afterEnd++;
        end = 'complete';
      },
    });
  const demand = options['demand'] instanceof Demand ? options['demand'] : undefined;
  for (let i = 1; i <= 6; i++) {
    source.next(i);
    if (i === 3) demand?.request(2);
    clock.advance(7);
  }
  source.complete();
  demand?.request(Infinity);
  for (let i = 0; i < 5; i++) clock.advance(500);
  subscription.unsubscribe();

  if (end === 'error') {
    const lawful =
      isBackpressureError(error) ||
      (error instanceof Error && error.message === 'demand stream failed') ||
      (error instanceof RangeError && hasLawfulStreamError(options));
    law(lawful, `${operator} errored at runtime with ${String(error)}`);
  }
  law(afterEnd === 0, `${operator}: a notification after the end`);
  if (ctx.countable)
    law(
      emitted + ctx.dropped === received,
      `${operator}: ${received} received, ${emitted} emitted, ${ctx.dropped} dropped`,
    );
  law(clock.actions.length === 0, `${operator}: ${clock.actions.length} actions left on the scheduler`);
  law(!source.observed, `${operator}: source still subscribed`);
}

function fuzzOperator(
  operator: string,
  keys: Record<string, fc.Arbitrary<Gen>>,
  build: (options: unknown) => MonoTypeOperatorFunction<number>,
  runs = fuzzRuns,
): void {
  it(`${operator}: ${runs} random option objects either throw at construction or work`, () => {
    let built = 0;
    let rejected = 0;
    fc.assert(
      fc.property(optionsArb(keys), (gen) => {
        const ctx: Context = { clock: new Clock(), dropped: 0, countable: false };
        const options = gen(ctx);
        let op: MonoTypeOperatorFunction<number>;
        try {
          op = build(options);
        } catch (error) {
          rejected++;
          explained(options, () => checkRejection(operator, Object.keys(keys), options, error));
          return;
        }
        built++;
        explained(options, () => exercise(operator, op, options as Record<string, unknown>, ctx));
      }),
      { numRuns: runs },
    );
    // the fuzzer must exercise both outcomes, or it proves little (at least 0.5% each: most random objects are invalid,
    // and an operator with several required numeric options, like adaptiveBuffer, builds from ~1% of them)
    law(built > runs / 200 && rejected > runs / 200, `${built} built, ${rejected} rejected`);
  }, 120_000);
}

const queueKeys = { demand: gens.demand, onDrop: gens.onDrop, metrics: gens.metrics, scheduler: gens.scheduler };
const rankBy = () => (v: number) => v % 3;

describe('option fuzzing', () => {
  fuzzOperator('bufferBounded', { capacity: gens.int, upstream: gens.upstream, ...queueKeys }, (o) =>
    bufferBounded(o as never),
  );
  fuzzOperator(
    'dropOnFull',
    {
      capacity: gens.int,
      overflow: gens.oneOf(['drop-incoming', 'drop-oldest', 'drop-newest', 'drop-buffer']),
      earlyDrop: fc.oneof(
        gens.unit,
        gens.callback(
          () => (f: number) => f * f,
          () => () => 2,
        ),
      ),
      random: gens.callback(
        () => Math.random,
        () => () => NaN,
      ),
      ...queueKeys,
    },
    (o) => dropOnFull(o as never),
  );
  fuzzOperator(
    'shedByPriority',
    { capacity: gens.int, priority: gens.callback(rankBy, () => () => NaN), ...queueKeys },
    (o) => shedByPriority(o as never),
  );
  fuzzOperator(
    'adaptiveBuffer',
    {
      minCapacity: gens.int,
      maxCapacity: gens.int,
      initialCapacity: gens.int,
      targetLatency: gens.num,
      percentile: gens.unit,
      interval: gens.num,
      decrease: gens.unit,
      increase: either(fc.double({ min: 1, max: 4, noNaN: true })).map((v) => () => v),
      overflow: gens.oneOf(['drop-incoming', 'drop-oldest']),
      onCapacity: fc.oneof(
        gens.callback(
          () => () => undefined,
          () => () => undefined,
        ),
        g(fc.constant(new Subject())),
      ),
      ...queueKeys,
    },
    (o) => adaptiveBuffer(o as never),
  );
  fuzzOperator(
    'throttleTokenBucket',
    {
      rate: gens.num,
      per: gens.num,
      burst: gens.num,
      mode: gens.oneOf(['shape', 'drop', 'error']),
      cost: gens.callback(
        () => (v: number) => v % 2,
        () => () => -1,
      ),
      capacity: gens.int,
      maxWait: gens.num,
      onDrop: gens.onDrop,
      scheduler: gens.scheduler,
    },
    (o) => throttleTokenBucket(o as never),
  );
});

const breakerKeys: Record<string, fc.Arbitrary<Gen>> = {
  failureThreshold: gens.int,
  failureRateThreshold: gens.unit,
  slidingWindow: fc.oneof(
    either(fc.record({ kind: fc.constant('count'), size: fc.integer({ min: 1, max: 20 }) })).map((v) => () => v),
    either(fc.record({ kind: fc.constant('time'), duration: fc.integer({ min: 1, max: 500 }) })).map((v) => () => v),
    g(
      fc.record(
        { kind: fc.constantFrom('count', 'time', 'sliding'), size: garbage, duration: garbage },
        { requiredKeys: ['kind'] },
      ),
    ),
  ),
  minimumCalls: gens.int,
  slowCallDuration: gens.num,
  slowCallRateThreshold: gens.unit,
  callTimeout: gens.num,
  resetTimeout: gens.num,
  halfOpenMaxCalls: gens.int,
  isFailure: gens.callback(
    () => () => true,
    () => () => false,
  ),
  initialState: fc.oneof(
    { weight: 3, arbitrary: fc.constant<Gen>((ctx) => new CircuitBreaker({ scheduler: ctx.clock }).toJSON()) },
    {
      weight: 1,
      arbitrary: g(
        fc.record(
          {
            version: either(fc.constant(1)),
            state: either(fc.constantFrom('closed', 'open', 'half-open', 'isolated')),
            since: either(fc.constant(0)),
            consecutiveFailures: either(fc.constant(0)),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { weight: 1, arbitrary: g(garbage) },
  ),
  scheduler: gens.scheduler,
};

/** A few calls through a breaker: successes, failures, a hanging call; every error must be one the contract names. */
function exerciseBreaker(
  operator: string,
  guard: MonoTypeOperatorFunction<number>,
  ctx: Context,
  breaker?: CircuitBreaker,
): void {
  const { clock } = ctx;
  const errors: unknown[] = [];
  let afterEnd = 0;
  const call = (source: Observable<number>): void => {
    let ended = false;
    const s = source.pipe(guard).subscribe({
      next: () => (ended ? afterEnd++ : undefined),
      error: (e: unknown) => {
        if (ended) afterEnd++;
        ended = true;
        errors.push(e);
      },
      complete: () => {
        if (ended) afterEnd++;
        ended = true;
      },
    });
    clock.advance(3);
    s.unsubscribe();
  };
  const state$ = breaker?.state$.subscribe();
  for (let i = 0; i < 4; i++) {
    call(of(1, 2));
    call(throwError(() => new Error('downstream failed')));
    call(new Observable<number>(() => undefined)); // hangs until unsubscribed or timed out
    clock.advance(50);
  }
  breaker?.toJSON();
  state$?.unsubscribe();
  for (const e of errors) {
    law(
      isBackpressureError(e) || (e instanceof Error && e.message === 'downstream failed'),
      `${operator}: ${String(e)}`,
    );
  }
  law(afterEnd === 0, `${operator}: a notification after the end`);
  law(clock.actions.length === 0, `${operator}: ${clock.actions.length} actions left on the scheduler`);
}

describe('option fuzzing: circuit breaker and drain', () => {
  it(`circuitBreak: ${fuzzRuns} random option objects either throw at construction or work`, () => {
    let built = 0;
    fc.assert(
      fc.property(optionsArb(breakerKeys), (gen) => {
        const ctx: Context = { clock: new Clock(), dropped: 0, countable: false };
        const options = gen(ctx);
        let guard: MonoTypeOperatorFunction<number>;
        try {
          guard = circuitBreak(options as never);
        } catch (error) {
          checkRejection('circuitBreak', Object.keys(breakerKeys), options, error);
          return;
        }
        built++;
        explained(options, () => exerciseBreaker('circuitBreak', guard, ctx));
      }),
      { numRuns: fuzzRuns },
    );
    law(built > fuzzRuns / 20, `only ${built} built`);
  }, 120_000);

  it(`CircuitBreaker: ${fuzzRuns} random option objects either throw at construction or work`, () => {
    let built = 0;
    fc.assert(
      fc.property(optionsArb(breakerKeys), (gen) => {
        const ctx: Context = { clock: new Clock(), dropped: 0, countable: false };
        const options = gen(ctx);
        let breaker: CircuitBreaker;
        try {
          breaker = new CircuitBreaker(options as never);
        } catch (error) {
          checkRejection('CircuitBreaker', Object.keys(breakerKeys), options, error);
          return;
        }
        built++;
        explained(options, () => exerciseBreaker('CircuitBreaker', circuitBreak(breaker), ctx, breaker));
      }),
      { numRuns: fuzzRuns },
    );
    law(built > fuzzRuns / 20, `only ${built} built`);
  }, 120_000);

  it(`drain: ${fuzzRuns} random (project, options) pairs either throw at construction or work`, () => {
    fc.assert(
      fc.property(
        either(fc.constant((v: number) => of(v))),
        fc.oneof(
          { weight: 1, arbitrary: fc.constant(undefined) },
          {
            weight: 8,
            arbitrary: fc.record(
              {
                concurrency: either(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(Infinity))),
                extra: fc.constant(1),
              },
              { requiredKeys: [] },
            ),
          },
          { weight: 1, arbitrary: garbage },
        ),
        (project, options) => {
          const demand = new Demand();
          let op: ReturnType<Demand['drain']>;
          try {
            op = demand.drain(project as never, options as never);
          } catch (error) {
            checkRejection('drain', ['project', 'concurrency'], options, error);
            return;
          }
          let emitted = 0;
          let end = 'running';
          const ours = typeof project === 'function' && project.length === 1; // garbage may hold () => 1
          if (!ours) return; // a project returning a non-ObservableInput fails in from(), as in mergeMap
          pull([1, 2, 3, 4, 5], demand)
            .pipe(op)
            .subscribe({ next: () => emitted++, error: () => (end = 'error'), complete: () => (end = 'complete') });
          law(end === 'complete' && emitted === 5, `drain ended ${end} after ${emitted} values`);
        },
      ),
      { numRuns: fuzzRuns },
    );
  }, 120_000);

  it(`QueueMetrics: ${fuzzRuns / 10} random option objects either throw at construction or work`, () => {
    fc.assert(
      fc.property(optionsArb({ scheduler: gens.scheduler }), (gen) => {
        const ctx: Context = { clock: new Clock(), dropped: 0, countable: false };
        const options = gen(ctx);
        let metrics: QueueMetrics;
        try {
          metrics = new QueueMetrics(options as never);
        } catch (error) {
          checkRejection('QueueMetrics', ['scheduler'], options, error);
          return;
        }
        const alerts = metrics.alerts().subscribe();
        from([1, 2, 3])
          .pipe(dropOnFull({ capacity: 1, metrics, scheduler: ctx.clock }))
          .subscribe();
        ctx.clock.advance(2000);
        alerts.unsubscribe();
        law(metrics.enqueued === 3 && metrics.depth === 0, 'metrics do not add up');
        law(ctx.clock.actions.length === 0, 'alert timer left on the scheduler');
      }),
      { numRuns: Math.ceil(fuzzRuns / 10) },
    );
  });

  it(`pull: ${fuzzRuns / 10} random (input, demand) pairs either throw at the call or work`, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 3, arbitrary: fc.constant<Gen>(() => [1, 2, 3]) },
          { weight: 1, arbitrary: fc.constant<Gen>(() => new Set([1, 2, 3])) },
          { weight: 1, arbitrary: g(garbage) },
        ),
        gens.demand,
        (input, demandGen) => {
          const ctx: Context = { clock: new Clock(), dropped: 0, countable: false };
          const demand = demandGen(ctx);
          let source: Observable<unknown>;
          try {
            source = pull(input(ctx) as never, demand as never);
          } catch (error) {
            checkRejection('pull', ['input', 'demand'], {}, error);
            return;
          }
          let error: unknown;
          const s = source.subscribe({ error: (e: unknown) => (error = e) });
          if (demand instanceof Demand) demand.request(Infinity);
          s.unsubscribe();
          if (error !== undefined) {
            const lawful =
              (error instanceof Error && error.message === 'demand stream failed') ||
              (error instanceof RangeError && lawfulStreamErrors.has(demand as object));
            law(lawful, `pull errored with ${String(error)}`);
          }
        },
      ),
      { numRuns: Math.ceil(fuzzRuns / 10) },
    );
  });
});
