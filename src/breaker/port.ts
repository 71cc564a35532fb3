import type { SchedulerLike } from 'rxjs';

/**
 * The port `circuitBreak` runs a {@link CircuitBreaker} through, found under a registered symbol so that a breaker made
 * by another copy of the package (an ESM and a CommonJS build, two installs) works alike. Version 1: the members of
 * {@link BreakerPort}. A later incompatible version gets a new symbol; a copy finds only the versions it knows. Not
 * public API: the breaker's member holding the port is tagged internal (stripped from the published types).
 */
export const BREAKER: unique symbol = Symbol.for('rxjs-backpressure.circuit-breaker.v1') as never;

/** How a call ended, as the operator reports it. `'ignored'`: an error `isFailure` rejected. `'none'`: no verdict. */
export type CallResult = 'success' | 'failure' | 'timeout' | 'ignored' | 'none';

/**
 * How the calls through a breaker ended, counted since it was made; disjoint, so they add up to every call judged.
 * `success` a call that succeeded in less than `slowCallDuration`, `slow` one that succeeded but took at least that
 * long, `failure` an error `isFailure` accepts or a value `isFailureResult` accepts, `timeout` a call past
 * `callTimeout`, `rejected` a call refused with `CircuitOpenError`. Not counted: an error `isFailure` rejects, a call
 * unsubscribed before any value.
 */
export type CallOutcome = 'success' | 'failure' | 'rejected' | 'timeout' | 'slow';

export const CALL_OUTCOMES: readonly CallOutcome[] = ['success', 'failure', 'rejected', 'timeout', 'slow'];

/** The breaker port, version 1 (not public API, see {@link BREAKER}). */
export interface BreakerPort {
  readonly v: 1;
  /** Admits one call: its generation, or the `CircuitOpenError` to refuse it with. */
  admit(): number | Error;
  /** Records how a call admitted in `generation` ended; `startedAt` is its start on `now()` when `timed`. */
  settle(generation: number, result: CallResult, startedAt: number): void;
  /** Whether a call's start time matters (slow calls, a time window): only then does the operator read `now()`. */
  readonly timed: boolean;
  /** The breaker's clock: monotonic readings of its scheduler. */
  now(): number;
  /** Where call timeouts are scheduled. */
  readonly scheduler: SchedulerLike;
  readonly callTimeout: number | undefined;
  readonly isFailure: ((error: unknown) => boolean) | undefined;
  readonly isFailureResult: ((value: unknown) => boolean) | undefined;
  /** Calls by how they ended, live (read at scrape time by the prometheus entry). */
  readonly outcomes: Readonly<Record<CallOutcome, number>>;
}

/** The port of a CircuitBreaker from any copy of the package, or undefined for anything else (an options object). */
export function breakerPort(value: unknown): BreakerPort | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const port = (value as { [BREAKER]?: unknown })[BREAKER] as BreakerPort | undefined;
  return typeof port === 'object' && port !== null && port.v === 1 && typeof port.admit === 'function'
    ? port
    : undefined;
}
