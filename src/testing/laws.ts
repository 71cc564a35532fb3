import { Observable, Subject, Subscriber, VirtualTimeScheduler } from 'rxjs';
import type { OperatorFunction, SchedulerLike } from 'rxjs';
import type * as FastCheck from 'fast-check';
import type { Dropped } from '../types.js';

/** What {@link checkLaws} hands the operator factory: wire these into the operator or pipeline under test. */
export interface LawContext<T> {
  /**
   * The consumer's credits, requested at random by the run (some from inside `next`): pass it as `demand`. An operator
   * that subscribes to it is held to "never more emitted than requested"; one that does not is read as unbounded.
   */
  readonly demand: Observable<number>;
  /** Pass it as `onDrop`: every value it is told of counts as dropped. */
  readonly onDrop: (drop: Dropped<T>) => void;
  /** A virtual clock the run moves forward at random: pass it as `scheduler` to everything that reads time. */
  readonly scheduler: SchedulerLike;
}

/** Options of {@link checkLaws}. */
export interface CheckLawsOptions<T, R> {
  /** Random runs (fast-check `numRuns`). Default 200. */
  runs?: number | undefined;
  /** The fast-check seed, to replay a failure (its report prints the seed). */
  seed?: number | undefined;
  /** Most steps (arrivals, credits, time, the end) per run. Default 40. */
  maxSteps?: number | undefined;
  /** If given, also checked: never more values held (received, not yet emitted or dropped) than this. */
  capacity?: number | undefined;
  /** The n-th value the source sends (n from 1); they must differ from each other. Default: n itself. */
  value?: ((n: number) => T) | undefined;
  /**
   * The received value an emitted one stands for, for a pipeline that transforms values (e.g. `(r) => r.job`).
   * Default: the emitted value itself.
   */
  identify?: ((emitted: R) => T) | undefined;
}

export type Step =
  | { kind: 'next'; count: number }
  | { kind: 'request'; n: number }
  | { kind: 'requestInNext'; n: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'complete' }
  | { kind: 'error' }
  | { kind: 'unsubscribe' };

/** The parts of a virtual action the clock runs by hand (public at runtime, protected in rxjs' types). */
interface DueAction {
  delay: number;
  state?: unknown;
  execute(state: unknown, delay: number): unknown;
}

/** After the source completes: up to this many advances of this many ms to let queued values out. */
const DRAIN_STEPS = 1000;
const DRAIN_MS = 1000;

/** Most actions one advance may run: beyond that an operator reschedules itself without time moving. */
const RUNAWAY = 100_000;

/**
 * A virtual clock that moves only when told, and refuses to spin on an action that keeps rescheduling itself. Not part
 * of the entry's exports; the library's own reliability suite (spec/reliability) runs on it too.
 */
export class Clock extends VirtualTimeScheduler {
  constructor() {
    super(undefined, Infinity);
  }

  advance(ms: number): void {
    const target = this.frame + ms;
    for (let ran = 0; ; ran++) {
      const next = this.actions[0] as unknown as DueAction | undefined;
      if (next === undefined || next.delay > target) break;
      if (ran >= RUNAWAY) throw new LawError('runaway scheduler', `${RUNAWAY} actions without time reaching ${target}`);
      this.actions.shift();
      this.frame = next.delay;
      const error = next.execute(next.state, next.delay);
      if (error) throw error;
    }
    this.frame = target;
  }
}

class LawError extends Error {
  constructor(law: string, detail: string) {
    super(`checkLaws: ${law}: ${detail}`);
    this.name = 'LawError';
  }
}

function law(ok: boolean, name: string, detail: () => string): void {
  if (!ok) throw new LawError(name, detail());
}

interface Recording<R> {
  next(value: R): void;
  error(): void;
  complete(): void;
  /** A notification that came after the stream ended (completed, errored, or was unsubscribed). */
  late(what: string): void;
}

/**
 * The run's own subscriber. rxjs 7 and 8 both hand a `Subscriber` given to `subscribe` the operator's notifications
 * as they are, so it sees a `next` after `complete` (a `SafeSubscriber` would drop it, telling only
 * `config.onStoppedNotification`, later, in a timer).
 */
class Recorder<R> extends Subscriber<R> {
  private ended = false;

  constructor(private readonly recording: Recording<R>) {
    super();
  }

  override next(value: R): void {
    if (this.ended || this.closed) this.recording.late(`next(${String(value)})`);
    else this.recording.next(value);
  }

  override error(): void {
    if (this.ended || this.closed) return this.recording.late('error');
    this.ended = true;
    this.recording.error();
    this.unsubscribe();
  }

  override complete(): void {
    if (this.ended || this.closed) return this.recording.late('complete');
    this.ended = true;
    this.recording.complete();
    this.unsubscribe();
  }
}

/** One run: the operator on a fresh source, demand and clock, driven by `steps`, checked after every step. */
function run<T, R>(
  factory: (context: LawContext<T>) => OperatorFunction<T, R>,
  options: CheckLawsOptions<T, R>,
  steps: readonly Step[],
): void {
  const valueOf = options.value ?? ((n: number) => n as T);
  const identify = options.identify ?? ((emitted: R) => emitted as unknown as T);
  const clock = new Clock();
  const source = new Subject<T>();
  const credits = new Subject<number>();
  let demandLive = 0;
  let demandUsed = false;
  const demand = new Observable<number>((subscriber) => {
    demandLive++;
    demandUsed = true;
    const subscription = credits.subscribe(subscriber);
    return () => {
      demandLive--;
      subscription.unsubscribe();
    };
  });
  const index = new Map<T, number>();
  const fate = new Map<number, 'emitted' | 'dropped'>();
  let received = 0;
  let emitted = 0;
  let dropped = 0;
  let requested = 0;
  let reRequest = 0;
  let completed = false;
  let end: 'running' | 'complete' | 'error' | 'unsubscribed' = 'running';
  const afterEnd: string[] = [];
  // a law broken inside the pipeline (an onDrop or next the operator calls) may be caught there and turned into an
  // error notification: keep the first one, so check() reports it whatever the pipeline did with it
  let broken: unknown;
  const guard = (body: () => void): void => {
    try {
      body();
    } catch (error) {
      broken ??= error;
      throw error;
    }
  };

  const settle = (value: T, how: 'emitted' | 'dropped'): void =>
    guard(() => {
      const n = index.get(value);
      law(n !== undefined, 'conservation', () => `${how} ${String(value)}, which the source never sent`);
      const before = fate.get(n!);
      law(before === undefined, 'conservation', () => `${String(value)} ${how} after it was already ${before}`);
      fate.set(n!, how);
    });
  const request = (n: number): void => {
    requested += n;
    credits.next(n);
  };
  const operator = factory({
    demand,
    onDrop: (drop) => {
      settle(drop.value, 'dropped');
      dropped++;
    },
    scheduler: clock,
  });

  try {
    const subscription = source.pipe(operator).subscribe(
      new Recorder<R>({
        next: (value) => {
          settle(identify(value), 'emitted');
          emitted++;
          if (reRequest > 0) {
            reRequest--;
            request(1);
          }
        },
        error: () => {
          end = 'error';
        },
        complete: () => {
          end = 'complete';
        },
        late: (what) => afterEnd.push(what),
      }),
    );

    const check = (): void => {
      if (broken !== undefined) throw broken;
      law(afterEnd.length === 0, 'nothing after the end', () => `${afterEnd.join(', ')} after the stream ${end}`);
      const held = received - emitted - dropped;
      if (options.capacity !== undefined) {
        law(held <= options.capacity, 'capacity', () => `${held} values held, capacity ${String(options.capacity)}`);
      }
      if (demandUsed) {
        law(emitted <= requested, 'demand', () => `${emitted} values emitted, ${requested} requested`);
      }
      if (end === 'running') return;
      law(
        held === 0,
        'conservation',
        () =>
          `after the stream ${end}, ${held} of ${received} values were neither emitted nor reported to onDrop ` +
          `(emitted ${emitted}, dropped ${dropped})`,
      );
      law(
        clock.actions.length === 0,
        'nothing after the end',
        () => `${clock.actions.length} timers left after ${end}`,
      );
      law(!source.observed, 'nothing after the end', () => `the source is still subscribed after ${end}`);
      law(demandLive === 0, 'nothing after the end', () => `the demand is still subscribed after ${end}`);
    };

    for (const step of steps) {
      switch (step.kind) {
        case 'next':
          for (let i = 0; i < step.count && end === 'running'; i++) {
            const value = valueOf(++received);
            if (index.has(value)) throw new TypeError(`checkLaws: value(${received}) repeats an earlier value`);
            index.set(value, received);
            source.next(value);
          }
          break;
        case 'request':
          request(step.n);
          break;
        case 'requestInNext':
          reRequest += step.n;
          break;
        case 'advance':
          clock.advance(step.ms);
          break;
        case 'complete':
          completed = true;
          source.complete();
          break;
        case 'error':
          source.error(new Error('checkLaws: upstream error'));
          break;
        case 'unsubscribe':
          if (end === 'running') end = 'unsubscribed';
          subscription.unsubscribe();
          break;
      }
      check();
      if (end !== 'running' || step.kind === 'complete' || step.kind === 'error') break;
    }
    // a completed source may leave values queued: unbounded credit and time let them out (then it must complete)
    if (completed && end === 'running') {
      request(Infinity);
      for (let i = 0; i < DRAIN_STEPS && end === 'running' && clock.actions.length > 0; i++) clock.advance(DRAIN_MS);
      check();
    }
    if (end === 'running') end = 'unsubscribed';
    subscription.unsubscribe();
    check();
  } catch (error) {
    throw broken ?? error;
  }
}

type FastCheckModule = Omit<typeof FastCheck, 'default'>;

/** A run's steps, weighted toward arrivals and credits. Internal; spec/reliability draws its runs from it too. */
export function stepArbitrary(fc: FastCheckModule): FastCheck.Arbitrary<Step> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('next' as const), count: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('request' as const), n: fc.integer({ min: 1, max: 4 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('requestInNext' as const), n: fc.integer({ min: 1, max: 3 }) }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'complete' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'error' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'unsubscribe' as const }) },
  );
}

async function fastCheck(): Promise<FastCheckModule> {
  try {
    const module = (await import('fast-check')) as FastCheckModule & { default?: FastCheckModule };
    return module.default ?? module;
  } catch (cause) {
    throw new Error(
      'checkLaws needs fast-check, an optional peer dependency of rxjs-backpressure: npm install --save-dev fast-check',
      { cause },
    );
  }
}

/**
 * Checks an operator or pipeline of yours against the laws every operator of this library keeps, with fast-check:
 * random runs of arrivals, credits (some requested from inside `next`), virtual time, completion, error and
 * unsubscription, checked after every step.
 *
 * - **conservation**: every value received ends exactly once, emitted or reported to `onDrop`; after the end nothing
 *   is left (received = emitted + dropped);
 * - **demand**: never more emitted than requested (when the operator subscribes to `context.demand`);
 * - **nothing after the end**: no notification after complete or error, and once the stream has ended (or been
 *   unsubscribed) no timer left on the scheduler and neither the source nor the demand still subscribed;
 * - **capacity** (with `options.capacity`): never more held than that.
 *
 * The factory gets a {@link LawContext} to wire in (`demand`, `onDrop`, `scheduler`) and returns the operator: a
 * pipeline that drops values without telling `onDrop` breaks conservation. A run whose source completes is given
 * unbounded credit and time, so what was queued can still come out; a run that ends without an end is unsubscribed.
 * Resolves when every run keeps the laws; rejects with fast-check's report (the shrunk counterexample and its seed)
 * otherwise. fast-check is an optional peer dependency: without it, this rejects with an error saying to install it.
 *
 * ```
 * source:   -1-2-3-4-5-|        random arrivals, credits, time, complete | error | unsubscribe
 * demand:   ---1-----2----
 * checkLaws((ctx) => dropOnFull({ capacity: 3, demand: ctx.demand, onDrop: ctx.onDrop }))
 * output:   ---1-----(23)-|     emitted <= requested
 * drops:    ---------4----      emitted + dropped = received, nothing after the end
 * ```
 *
 * ## Example
 * ```ts
 * import { map, pipe } from 'rxjs';
 * import { dropOnFull, throttleTokenBucket } from 'rxjs-backpressure';
 * import { checkLaws } from 'rxjs-backpressure/testing';
 * import { it } from 'vitest';
 *
 * it('my ingest pipeline loses nothing silently', async () => {
 *   await checkLaws(
 *     (ctx) =>
 *       pipe(
 *         throttleTokenBucket({
 *           rate: 1, per: 10, burst: 2, mode: 'drop', onDrop: ctx.onDrop, scheduler: ctx.scheduler,
 *         }),
 *         dropOnFull({ capacity: 3, demand: ctx.demand, onDrop: ctx.onDrop, scheduler: ctx.scheduler }),
 *         map((n: number) => ({ n })),
 *       ),
 *     { identify: (out) => out.n, capacity: 3 },
 *   );
 * });
 * ```
 *
 * @param operator a factory of the operator or pipeline under test, given the run's demand, onDrop and scheduler
 * @param options runs, seed, steps per run, the capacity to hold it to, how values are made and identified
 * @see dropLane
 */
export async function checkLaws<T = number, R = T>(
  operator: (context: LawContext<T>) => OperatorFunction<T, R>,
  options: CheckLawsOptions<T, R> = {},
): Promise<void> {
  if (typeof operator !== 'function') {
    throw new TypeError('checkLaws: operator must be a function (context) => OperatorFunction, got ' + typeof operator);
  }
  const fc = await fastCheck();
  const stepArb = stepArbitrary(fc);

  const property = fc.property(fc.array(stepArb, { maxLength: options.maxSteps ?? 40 }), (steps) =>
    run(operator, options, steps),
  );
  const details = fc.check(property, {
    numRuns: options.runs ?? 200,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  if (!details.failed) return;
  // the law that broke first, then fast-check's report (the shrunk counterexample, the seed to replay it)
  const cause = (details as { errorInstance?: unknown }).errorInstance;
  const broken = cause instanceof Error ? cause.message : String(cause ?? 'a run failed');
  throw new Error(`${broken}\n${fc.defaultReportMessage(details) ?? ''}`, { cause });
}
