import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import {
  checkOptions,
  fail,
  fn,
  optional,
  positiveInteger,
  positiveNumber,
  scheduler,
  settings,
  withDefault,
} from '../internal/options.js';
import type { Check, Schema, Settings } from '../internal/options.js';
import { snapshotCheck } from './snapshot.js';
import type { CircuitBreakerSnapshot } from './snapshot.js';

/** The window a {@link CircuitBreaker} judges rates over: the last `size` calls, or the last `duration` ms. */
export type SlidingWindow = { kind: 'count'; size: number } | { kind: 'time'; duration: number };

/**
 * Options of {@link CircuitBreaker} and {@link circuitBreak}. Every time is in ms of the breaker's scheduler. `T` is
 * the type of the values `isFailureResult` judges.
 */
export interface CircuitBreakerOptions<T = unknown> {
  /**
   * Consecutive failures that open the circuit: a positive integer. Default 5 when neither rate threshold is given;
   * with a rate threshold it applies only when given explicitly (then either rule opens the circuit).
   */
  failureThreshold?: number | undefined;
  /** Open when failures / calls in the sliding window reach this, in (0, 1], once `minimumCalls` calls are in it. */
  failureRateThreshold?: number | undefined;
  /**
   * The window for the rate thresholds. Default `{ kind: 'count', size: 100 }`. A time window is cut into 10 buckets,
   * so a call counts for between 0.9 and 1 times `duration` after it ended.
   */
  slidingWindow?: SlidingWindow | undefined;
  /**
   * Calls the window must hold before a rate is judged: a positive integer, at most a count window's size. Default 10
   * (with a smaller count window: its size).
   */
  minimumCalls?: number | undefined;
  /** A call lasting at least this many ms (from subscribe to its end) is slow. Required by `slowCallRateThreshold`. */
  slowCallDuration?: number | undefined;
  /**
   * Open when slow calls / calls in the sliding window reach this, in (0, 1]. In half-open, a slow trial call fails the
   * trial.
   */
  slowCallRateThreshold?: number | undefined;
  /**
   * A call still running after this many ms is unsubscribed from upstream and errors with `CallTimeoutError`, which
   * counts as a failure whatever `isFailure` says. It caps the lifetime of every call, so leave it unset around
   * long-lived streams.
   */
  callTimeout?: number | undefined;
  /** ms the circuit stays open before it lets trial calls through (half-open). Default 30000. */
  resetTimeout?: number | undefined;
  /** Trial calls admitted in half-open, a positive integer (default 1). All must succeed to close the circuit. */
  halfOpenMaxCalls?: number | undefined;
  /**
   * Which errors count as failures (default: every error). An error it rejects is forwarded but neither counts nor
   * trips, and does not reset the consecutive count. If it throws, the call counts as a failure and the stream errors
   * with what it threw.
   */
  isFailure?: ((error: unknown) => boolean) | undefined;
  /**
   * Which values fail the call although they are values (an HTTP 500 `Response`; like resilience4j's
   * `recordResult`). The first value it accepts ends the call as a failure, at that value and before it is forwarded:
   * the breaker counts it (and may open) then, and nothing the call does later (more values, completing, erroring,
   * being unsubscribed, running past `callTimeout`) changes that verdict. The value itself still goes downstream and
   * the source is not unsubscribed, so the subscriber sees the 500 `Response` and can read its body. If it throws, the
   * call counts as a failure and the stream errors with what it threw. Default: no value fails a call.
   */
  isFailureResult?: ((value: T) => boolean) | undefined;
  /** A snapshot from {@link CircuitBreaker.toJSON} to start from. */
  initialState?: CircuitBreakerSnapshot | undefined;
  /** The clock and timer of the breaker (default `asyncScheduler`). */
  scheduler?: SchedulerLike | undefined;
}

/** A number in (0, 1]. */
const rate: Check<number> = (operator, option, value) => {
  if (typeof value !== 'number') fail(operator, option, 'a number in (0, 1]', value, 'type');
  if (!(value > 0 && value <= 1)) fail(operator, option, 'a number in (0, 1]', value, 'range');
  return value;
};

const slidingWindowCheck: Check<SlidingWindow> = (operator, option, value) => {
  const expected = "{ kind: 'count', size } or { kind: 'time', duration }";
  if (typeof value !== 'object' || value === null) fail(operator, option, expected, value, 'type');
  const w = value as Record<string, unknown>;
  if (w['kind'] === 'count') {
    checkOptions(`${operator} ${option}`, w, ['kind', 'size']);
    return { kind: 'count', size: positiveInteger(operator, `${option}.size`, w['size']) };
  }
  if (w['kind'] === 'time') {
    checkOptions(`${operator} ${option}`, w, ['kind', 'duration']);
    return { kind: 'time', duration: positiveNumber(operator, `${option}.duration`, w['duration']) };
  }
  return fail(operator, `${option}.kind`, "'count' or 'time'", w['kind'], 'type');
};

const BREAKER_SCHEMA = {
  failureThreshold: optional(positiveInteger),
  failureRateThreshold: optional(rate),
  slidingWindow: optional(slidingWindowCheck),
  minimumCalls: optional(positiveInteger),
  slowCallDuration: optional(positiveNumber),
  slowCallRateThreshold: optional(rate),
  callTimeout: optional(positiveNumber),
  resetTimeout: withDefault(positiveNumber, 30_000),
  halfOpenMaxCalls: withDefault(positiveInteger, 1),
  isFailure: optional(fn<(error: unknown) => boolean>()),
  isFailureResult: optional(fn<(value: unknown) => boolean>()),
  initialState: optional(snapshotCheck),
  scheduler: withDefault(scheduler, asyncScheduler),
} satisfies Schema<CircuitBreakerOptions>;

/**
 * A breaker's validated settings, under the option names. Three follow from the others: `failureThreshold` is
 * undefined when only a rate rule applies, `slidingWindow` is set exactly when a rate rule does, and `minimumCalls`
 * carries its default.
 */
export interface BreakerSettings extends Omit<
  Settings<typeof BREAKER_SCHEMA>,
  'failureThreshold' | 'slidingWindow' | 'minimumCalls'
> {
  failureThreshold: number | undefined;
  slidingWindow: SlidingWindow | undefined;
  minimumCalls: number;
}

/** Validates breaker options, naming `operator` in every message. Shared by the class and `circuitBreak(options)`. */
export function breakerSettings(operator: string, options: CircuitBreakerOptions<never>): BreakerSettings {
  const s = settings(operator, BREAKER_SCHEMA, options);
  if (s.slowCallRateThreshold !== undefined && s.slowCallDuration === undefined) {
    throw new TypeError(`${operator}: slowCallRateThreshold needs slowCallDuration (how long a slow call takes)`);
  }
  const rated = s.failureRateThreshold !== undefined || s.slowCallRateThreshold !== undefined;
  const window = s.slidingWindow ?? (rated ? { kind: 'count' as const, size: 100 } : undefined);
  let minimumCalls = window?.kind === 'count' ? Math.min(10, window.size) : 10;
  if (s.minimumCalls !== undefined) {
    minimumCalls = s.minimumCalls;
    if (window?.kind === 'count' && minimumCalls > window.size) {
      fail(operator, 'minimumCalls', `at most slidingWindow.size (${window.size})`, minimumCalls, 'range');
    }
  }
  return {
    ...s,
    failureThreshold: s.failureThreshold ?? (rated ? undefined : 5),
    slidingWindow: rated ? window : undefined,
    minimumCalls,
  };
}
