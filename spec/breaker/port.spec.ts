/**
 * circuitBreak finds a breaker by its versioned port (`Symbol.for('rxjs-backpressure.circuit-breaker.v1')`), and by
 * nothing else: not by private method names, not by instanceof.
 */
import { of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import { CircuitOpenError, isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';

const PORT = Symbol.for('rxjs-backpressure.circuit-breaker.v1');

describe('the circuit-breaker port', () => {
  it('is found on a breaker under the registered v1 symbol', () => {
    const breaker = new CircuitBreaker({});
    const port = (breaker as unknown as Record<symbol, { v: number; admit: unknown }>)[PORT];
    expect(port?.v).toBe(1);
    expect(typeof port?.admit).toBe('function');
  });

  it('is what circuitBreak talks to: a port alone (another copy of the package) is used as the breaker', () => {
    const settled: string[] = [];
    let admitted = 0;
    const foreign = {
      [PORT]: {
        v: 1,
        admit: () => (admitted++ < 1 ? 7 : new CircuitOpenError('foreign: open', 42)),
        settle: (generation: number, result: string) => settled.push(`${generation}:${result}`),
        timed: false,
        now: () => 0,
        scheduler: undefined,
        callTimeout: undefined,
        isFailure: undefined,
      },
    };
    const guard = circuitBreak<number>(foreign as never);
    const errors: unknown[] = [];
    throwError(() => new Error('down'))
      .pipe(guard)
      .subscribe({ error: (e) => errors.push(e) });
    of(1)
      .pipe(guard)
      .subscribe({ error: (e) => errors.push(e) });
    expect(settled).toEqual(['7:failure']);
    expect(isCircuitOpenError(errors[1]) && errors[1].retryAfter).toBe(42);
  });

  it('is not found by the old private names: an object with admit/settle/isolate is options (rejected)', () => {
    const lookalike = { admit: () => 0, settle: () => undefined, isolate: () => undefined };
    expect(() => circuitBreak(lookalike as never)).toThrow(TypeError);
    expect(() => circuitBreak(lookalike as never)).toThrow(/circuitBreak: unknown option "admit"/);
  });

  it('a port of another version is not taken for a breaker', () => {
    const future = { [PORT]: { v: 2, admit: () => 0 } };
    expect(() => circuitBreak(future as never)).not.toThrow(); // options with no known keys: a fresh breaker
    const v2 = Symbol.for('rxjs-backpressure.circuit-breaker.v2');
    expect(() => circuitBreak({ [v2]: {} } as never)).not.toThrow();
  });
});
