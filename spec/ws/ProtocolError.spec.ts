import { describe, expect, it } from 'vitest';
import {
  BackpressureError,
  BufferOverflowError,
  ProtocolError,
  isBackpressureError,
  isBufferOverflowError,
  isProtocolError,
} from '../../src/index.js';

describe('ProtocolError', () => {
  it('extends BackpressureError, sets name, carries reason, and has its guard', () => {
    const error = new ProtocolError('the peer sent a value beyond credit', 'unrequested');
    expect(error).toBeInstanceOf(BackpressureError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ProtocolError');
    expect(error.reason).toBe('unrequested');
    expect(isProtocolError(error)).toBe(true);
    expect(isBackpressureError(error)).toBe(true);
    expect(isBufferOverflowError(error)).toBe(false);
    expect(isProtocolError(new BufferOverflowError('full', 1))).toBe(false);
  });

  it('the guard rejects plain errors and look-alikes, and accepts one from another copy of the package', () => {
    for (const value of [new Error('x'), null, undefined, 'ProtocolError', { name: 'ProtocolError', reason: 'peer' }]) {
      expect(isProtocolError(value)).toBe(false);
    }
    const foreign = Object.assign(new Error('cut off'), { name: 'ProtocolError', reason: 'malformed' });
    Object.defineProperty(foreign, Symbol.for('rxjs-backpressure.error.v1'), { value: 'ProtocolError' });
    expect(foreign instanceof ProtocolError).toBe(false);
    expect(isProtocolError(foreign)).toBe(true);
  });
});
