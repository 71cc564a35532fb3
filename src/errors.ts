/**
 * Errors raised by rxjs-backpressure. Every class extends {@link BackpressureError} and sets `name`.
 *
 * The guards (`isBufferOverflowError(e)`, ...) check a brand registered with `Symbol.for`, not `instanceof`, so they
 * also recognise errors thrown by another installed copy of the package.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for('rxjs-backpressure.error') as never;

type ErrorKind =
  'BackpressureError' | 'BufferOverflowError' | 'RateLimitExceededError' | 'CircuitOpenError' | 'CallTimeoutError';

/**
 * The base class of every error this library raises.
 *
 * ## Example
 * ```ts
 * import { isBackpressureError } from 'rxjs-backpressure';
 * source$.subscribe({ error: (e) => (isBackpressureError(e) ? shed(e) : crash(e)) });
 * ```
 */
export class BackpressureError extends Error {
  /** @internal brand read by the guards across package copies */
  readonly [BRAND]: ErrorKind;

  constructor(message: string, kind: ErrorKind = 'BackpressureError') {
    super(message);
    this.name = kind;
    this[BRAND] = kind;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * A bounded buffer was full, or a demand-driven consumer received more values than it requested.
 *
 * `capacity` is the bound that was exceeded.
 */
export class BufferOverflowError extends BackpressureError {
  readonly capacity: number;

  constructor(message: string, capacity: number) {
    super(message, 'BufferOverflowError');
    this.capacity = capacity;
  }
}

/** A value arrived when the token bucket could not pay for it (`throttleTokenBucket` in mode `'error'`). */
export class RateLimitExceededError extends BackpressureError {
  /** ms until the bucket could have paid for the value. */
  readonly retryAfter: number;

  constructor(message: string, retryAfter: number) {
    super(message, 'RateLimitExceededError');
    this.retryAfter = retryAfter;
  }
}

/** A call was refused because the circuit is open, half-open with its trial calls taken, or isolated. */
export class CircuitOpenError extends BackpressureError {
  /** ms until the circuit lets a trial call through (`Infinity` while isolated). */
  readonly retryAfter: number;

  constructor(message: string, retryAfter: number) {
    super(message, 'CircuitOpenError');
    this.retryAfter = retryAfter;
  }
}

/** A call guarded by a circuit breaker ran longer than `callTimeout` ms. */
export class CallTimeoutError extends BackpressureError {
  readonly timeout: number;

  constructor(message: string, timeout: number) {
    super(message, 'CallTimeoutError');
    this.timeout = timeout;
  }
}

function kindOf(error: unknown): ErrorKind | undefined {
  return typeof error === 'object' && error !== null ? (error as { [BRAND]?: ErrorKind })[BRAND] : undefined;
}

/** True for any error raised by rxjs-backpressure (any copy of it). */
export function isBackpressureError(error: unknown): error is BackpressureError {
  return kindOf(error) !== undefined;
}

/** True for a {@link BufferOverflowError} (any copy of the package). */
export function isBufferOverflowError(error: unknown): error is BufferOverflowError {
  return kindOf(error) === 'BufferOverflowError';
}

/** True for a {@link RateLimitExceededError} (any copy of the package). */
export function isRateLimitExceededError(error: unknown): error is RateLimitExceededError {
  return kindOf(error) === 'RateLimitExceededError';
}

/** True for a {@link CircuitOpenError} (any copy of the package). */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return kindOf(error) === 'CircuitOpenError';
}

/** True for a {@link CallTimeoutError} (any copy of the package). */
export function isCallTimeoutError(error: unknown): error is CallTimeoutError {
  return kindOf(error) === 'CallTimeoutError';
}
