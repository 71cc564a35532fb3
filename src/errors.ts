/**
 * Errors raised by rxjs-backpressure. Every class extends {@link BackpressureError} and sets `name`.
 *
 * The guards (`isBufferOverflowError(e)`, ...) check a brand registered with `Symbol.for`, not `instanceof`, so they
 * also recognise errors thrown by another installed copy of the package. The brand is versioned
 * (`rxjs-backpressure.error.v1`): its value is the error's kind, the class name.
 *
 * @module
 */

/** The error brand, version 1: the kind of the error (its class name), read by the guards of every copy. */
const BRAND: unique symbol = Symbol.for('rxjs-backpressure.error.v1') as never;

type ErrorKind =
  | 'BackpressureError'
  | 'BufferOverflowError'
  | 'RateLimitExceededError'
  | 'CircuitOpenError'
  | 'CallTimeoutError'
  | 'ProtocolError';

/**
 * The base class of every error this library raises.
 *
 * ```
 * source:  -a-b-c-d
 * bufferBounded({ capacity: 2, demand: NEVER })
 * output:  -----#       c finds a, b queued: # is a BufferOverflowError, so isBackpressureError(#) is true
 * ```
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
 *
 * ```
 * source:  -a-b-c-d-|
 * bufferBounded({ capacity: 3, demand: NEVER })
 * output:  -------#        BufferOverflowError (capacity 3)
 * ```
 *
 * ## Example
 * ```ts
 * import { bufferBounded, isBufferOverflowError } from 'rxjs-backpressure';
 *
 * jobs$.pipe(bufferBounded({ capacity: 1000, demand })).subscribe({
 *   error: (e) => (isBufferOverflowError(e) ? alert(`queue of ${e.capacity} overflowed`) : crash(e)),
 * });
 * ```
 *
 * @see {@link bufferBounded}
 * @see {@link isBufferOverflowError}
 */
export class BufferOverflowError extends BackpressureError {
  readonly capacity: number;

  constructor(message: string, capacity: number) {
    super(message, 'BufferOverflowError');
    this.capacity = capacity;
  }
}

/**
 * A value arrived when the token bucket could not pay for it (`throttleTokenBucket` in mode `'error'`).
 *
 * ```
 * source:  -a-b-|
 * throttleTokenBucket({ rate: 1, per: 10, burst: 1, mode: 'error' })
 * output:  -a-#            RateLimitExceededError (retryAfter 8)
 * ```
 *
 * ## Example
 * ```ts
 * import { isRateLimitExceededError, throttleTokenBucket } from 'rxjs-backpressure';
 * import { retry, timer } from 'rxjs';
 *
 * calls$.pipe(
 *   throttleTokenBucket({ rate: 10, mode: 'error' }),
 *   retry({ delay: (e) => (isRateLimitExceededError(e) ? timer(e.retryAfter) : Promise.reject(e)) }),
 * );
 * ```
 *
 * @see {@link throttleTokenBucket}
 */
export class RateLimitExceededError extends BackpressureError {
  /** ms until the bucket could have paid for the value. */
  readonly retryAfter: number;

  constructor(message: string, retryAfter: number) {
    super(message, 'RateLimitExceededError');
    this.retryAfter = retryAfter;
  }
}

/**
 * A call was refused because the circuit is open, half-open with its trial calls taken, or isolated.
 *
 * ```
 * call:    ---(subscribe)
 * circuitBreak(breaker)     breaker open, 2500 ms before half-open
 * output:  ---#              CircuitOpenError (retryAfter 2500), upstream never subscribed
 * ```
 *
 * ## Example
 * ```ts
 * import { catchError, of } from 'rxjs';
 * import { circuitBreak, isCircuitOpenError } from 'rxjs-backpressure';
 *
 * fetchPrice$.pipe(
 *   circuitBreak(breaker),
 *   catchError((e) => (isCircuitOpenError(e) ? of(cachedPrice) : Promise.reject(e))),
 * );
 * ```
 *
 * @see {@link circuitBreak}
 * @see {@link CircuitBreaker}
 */
export class CircuitOpenError extends BackpressureError {
  /** ms until the circuit lets a trial call through (`Infinity` while isolated). */
  readonly retryAfter: number;

  constructor(message: string, retryAfter: number) {
    super(message, 'CircuitOpenError');
    this.retryAfter = retryAfter;
  }
}

/**
 * A call guarded by a circuit breaker ran longer than `callTimeout` ms; it counts as a failure.
 *
 * ```
 * call:    -----------     (never answers)
 * circuitBreak({ callTimeout: 5 })
 * output:  -----#           CallTimeoutError (timeout 5), upstream unsubscribed
 * ```
 *
 * ## Example
 * ```ts
 * import { circuitBreak, isCallTimeoutError } from 'rxjs-backpressure';
 *
 * slow$.pipe(circuitBreak({ callTimeout: 2000 })).subscribe({
 *   error: (e) => isCallTimeoutError(e) && metrics.timeouts.inc(),
 * });
 * ```
 *
 * @see {@link circuitBreak}
 */
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

/**
 * True for any error raised by rxjs-backpressure, of every kind: a {@link BufferOverflowError},
 * {@link RateLimitExceededError}, {@link CircuitOpenError}, {@link CallTimeoutError} or a plain
 * {@link BackpressureError}, from this copy of the package or another (it checks a brand, not `instanceof`).
 *
 * ```
 * error:                BufferOverflowError  CircuitOpenError  TypeError  new Error('down')
 * isBackpressureError:  true                 true              false      false
 * ```
 *
 * ## Example
 * ```ts
 * import { isBackpressureError } from 'rxjs-backpressure';
 *
 * // backpressure is load to shed and count, anything else is a bug to report
 * jobs$.subscribe({ error: (e) => (isBackpressureError(e) ? metrics.shed.inc() : reportBug(e)) });
 * ```
 *
 * @see {@link isBufferOverflowError}, {@link isRateLimitExceededError}, {@link isCircuitOpenError},
 *   {@link isCallTimeoutError} for one kind
 */
export function isBackpressureError(error: unknown): error is BackpressureError {
  return kindOf(error) !== undefined;
}

/**
 * True for a {@link BufferOverflowError}: a bounded buffer overflowed, or a drain received a value it did not request
 * (any copy of the package).
 *
 * ```
 * source:  -a-b-c-d-|
 * bufferBounded({ capacity: 3, demand: NEVER })
 * output:  -------#        isBufferOverflowError(#) is true, e.capacity is 3
 * ```
 *
 * ## Example
 * ```ts
 * import { bufferBounded, isBufferOverflowError } from 'rxjs-backpressure';
 * import { catchError, EMPTY } from 'rxjs';
 *
 * uploads$.pipe(
 *   bufferBounded({ capacity: 500, demand }),
 *   catchError((e) => {
 *     if (isBufferOverflowError(e)) log.warn(`upload queue over ${e.capacity}: the consumer is too slow`);
 *     return EMPTY;
 *   }),
 * );
 * ```
 *
 * @see {@link bufferBounded}
 */
export function isBufferOverflowError(error: unknown): error is BufferOverflowError {
  return kindOf(error) === 'BufferOverflowError';
}

/**
 * True for a {@link RateLimitExceededError}: a token bucket in mode `'error'` could not pay for a value, or
 * `retryAfter` gave up (any copy of the package). Its `retryAfter` says when to try again.
 *
 * ```
 * source:  -a-b-|
 * throttleTokenBucket({ rate: 1, per: 10, burst: 1, mode: 'error' })
 * output:  -a-#            isRateLimitExceededError(#) is true, e.retryAfter is 8
 * ```
 *
 * ## Example
 * ```ts
 * import { isRateLimitExceededError, throttleTokenBucket } from 'rxjs-backpressure';
 * import { retry, throwError, timer } from 'rxjs';
 *
 * sends$.pipe(
 *   throttleTokenBucket({ rate: 5, mode: 'error' }),
 *   retry({ delay: (e) => (isRateLimitExceededError(e) ? timer(e.retryAfter) : throwError(() => e)) }),
 * );
 * ```
 *
 * @see {@link throttleTokenBucket}
 * @see {@link retryAfter}
 */
export function isRateLimitExceededError(error: unknown): error is RateLimitExceededError {
  return kindOf(error) === 'RateLimitExceededError';
}

/**
 * True for a {@link CircuitOpenError}: a circuit breaker refused the call without making it (any copy of the
 * package). Its `retryAfter` is the ms until a trial call may go through (`Infinity` while isolated).
 *
 * ```
 * call:    ---(subscribe)   breaker open, 2500 ms before half-open
 * circuitBreak(breaker)
 * output:  ---#              isCircuitOpenError(#) is true, e.retryAfter is 2500
 * ```
 *
 * ## Example
 * ```ts
 * import { catchError, of, throwError } from 'rxjs';
 * import { circuitBreak, isCircuitOpenError } from 'rxjs-backpressure';
 *
 * // serve the cached quote while the quote service is known to be down; let real failures through
 * quote$.pipe(
 *   circuitBreak(quotes),
 *   catchError((e) => (isCircuitOpenError(e) ? of(cachedQuote) : throwError(() => e))),
 * );
 * ```
 *
 * @see {@link circuitBreak}
 */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return kindOf(error) === 'CircuitOpenError';
}

/**
 * True for a {@link CallTimeoutError}: a call guarded by a circuit breaker ran past `callTimeout` and was
 * unsubscribed (any copy of the package). Its `timeout` is that `callTimeout`.
 *
 * ```
 * call:    -----------      (never answers)
 * circuitBreak({ callTimeout: 5 })
 * output:  -----#           isCallTimeoutError(#) is true, e.timeout is 5
 * ```
 *
 * ## Example
 * ```ts
 * import { circuitBreak, isCallTimeoutError } from 'rxjs-backpressure';
 *
 * report$.pipe(circuitBreak({ callTimeout: 5_000 })).subscribe({
 *   error: (e) => (isCallTimeoutError(e) ? notify(`report took over ${e.timeout} ms`) : notify('report failed')),
 * });
 * ```
 *
 * @see {@link circuitBreak}
 */
export function isCallTimeoutError(error: unknown): error is CallTimeoutError {
  return kindOf(error) === 'CallTimeoutError';
}

// --- ProtocolError (the ws entry) ---

/**
 * How a peer broke the credit protocol of `rxjs-backpressure/ws` (see docs/ws-protocol.md):
 * - `'malformed'`: a frame that is not a JSON object of a known type with a valid stream id, or a binary frame;
 * - `'credit'`: a request(n) whose n is not a positive integer;
 * - `'max-credit'`: outstanding credit on a stream above `maxCredit`;
 * - `'max-streams'`: more than `maxStreams` streams open at once;
 * - `'stream-id'`: a stream opened under an id already open, or a frame for a stream never opened;
 * - `'unrequested'`: a value beyond the credit given;
 * - `'peer'`: the peer said this side broke the protocol (its error frame's reason is in the message).
 */
export type ProtocolViolation =
  'malformed' | 'credit' | 'max-credit' | 'max-streams' | 'stream-id' | 'unrequested' | 'peer';

/**
 * A peer broke the credit protocol of a WebSocket bridge (`serveStreams` / `requestStream`): it was sent an error frame
 * and the socket was closed; the streams open on that socket error with this error. `reason` says how.
 *
 * ```
 * server:  -a-b-c-d       sends d beyond the 3 credits the client gave
 * requestStream(socket, 'feed', demand)     demand: 3
 * output:  -a-b-c-#       # is a ProtocolError (reason 'unrequested'); the socket is closed
 * ```
 *
 * ## Example
 * ```ts
 * import { drain, isProtocolError } from 'rxjs-backpressure';
 * import { requestStream } from 'rxjs-backpressure/ws';
 *
 * requestStream(socket, { feed: 'prices' })
 *   .pipe(drain((price) => render(price)))
 *   .subscribe({
 *     error: (e) => (isProtocolError(e) ? report(`server broke the protocol: ${e.reason}`) : reconnect(e)),
 *   });
 * ```
 *
 * @see {@link isProtocolError}
 */
export class ProtocolError extends BackpressureError {
  readonly reason: ProtocolViolation;

  constructor(message: string, reason: ProtocolViolation) {
    super(message, 'ProtocolError');
    this.reason = reason;
  }
}

/**
 * True for a {@link ProtocolError} (any copy of the package).
 *
 * Checks a brand registered with `Symbol.for`, not `instanceof`, so it also works when two copies of the package are
 * installed.
 *
 * ```
 * error:   ProtocolError | BufferOverflowError | Error
 * isProtocolError(error) -> true only for the ProtocolError
 * ```
 *
 * ## Example
 * ```ts
 * import { isProtocolError } from 'rxjs-backpressure';
 *
 * feed$.subscribe({ error: (e) => console.log(isProtocolError(e) ? `protocol: ${e.reason}` : 'other failure') });
 * ```
 */
export function isProtocolError(error: unknown): error is ProtocolError {
  return kindOf(error) === 'ProtocolError';
}
