import { describe, expect, it } from 'vitest';
import {
  BackpressureError,
  BufferOverflowError,
  CallTimeoutError,
  CircuitOpenError,
  RateLimitExceededError,
  isBackpressureError,
  isBufferOverflowError,
  isCallTimeoutError,
  isCircuitOpenError,
  isRateLimitExceededError,
} from '../src/index.js';

describe('errors', () => {
  const cases = [
    [new BufferOverflowError('full', 3), 'BufferOverflowError', isBufferOverflowError],
    [new RateLimitExceededError('slow down', 250), 'RateLimitExceededError', isRateLimitExceededError],
    [new CircuitOpenError('open', 1000), 'CircuitOpenError', isCircuitOpenError],
    [new CallTimeoutError('too slow', 50), 'CallTimeoutError', isCallTimeoutError],
  ] as const;

  it.each(cases)('%s extends BackpressureError and Error, sets name, and has its guard', (error, name, guard) => {
    expect(error).toBeInstanceOf(BackpressureError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(guard(error)).toBe(true);
    expect(isBackpressureError(error)).toBe(true);
    for (const [other, , otherGuard] of cases) if (other !== error) expect(otherGuard(error)).toBe(false);
  });

  it('guards reject plain errors and non-errors', () => {
    for (const value of [new Error('x'), null, undefined, 'BufferOverflowError', { name: 'CircuitOpenError' }]) {
      expect(isBackpressureError(value)).toBe(false);
      expect(isCircuitOpenError(value)).toBe(false);
    }
  });

  it('guards recognise an error from another copy of the package (same versioned Symbol.for brand)', () => {
    // Another copy has its own classes, so instanceof fails, but the registered brand is shared.
    const foreign = Object.assign(new Error('open'), { name: 'CircuitOpenError', retryAfter: 5 });
    Object.defineProperty(foreign, Symbol.for('rxjs-backpressure.error.v1'), { value: 'CircuitOpenError' });
    expect(foreign instanceof CircuitOpenError).toBe(false);
    expect(isCircuitOpenError(foreign)).toBe(true);
    expect(isBackpressureError(foreign)).toBe(true);
  });

  it('carries retryAfter, capacity and timeout', () => {
    expect(new CircuitOpenError('open', 1234).retryAfter).toBe(1234);
    expect(new RateLimitExceededError('r', 20).retryAfter).toBe(20);
    expect(new BufferOverflowError('b', 7).capacity).toBe(7);
    expect(new CallTimeoutError('t', 9).timeout).toBe(9);
  });
});
