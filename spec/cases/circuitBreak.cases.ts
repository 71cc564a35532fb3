import { catchError, mergeMap, of } from 'rxjs';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import { isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';
import type { MarbleCase } from './types.js';
import { BREAKER_STATES } from 'rxjs-backpressure/testing';

export const circuitBreakCases: MarbleCase[] = [
  {
    // Each request is one call. a and b fail (F): two consecutive failures open the circuit at 4. c and d are refused
    // at once (O, CircuitOpenError, upstream not called). resetTimeout 10 after opening, at 14, the circuit is
    // half-open; e is the trial call, succeeds, and closes it at 17.
    id: 'circuitBreak',
    title: 'Two failures open the circuit; calls fail fast until a trial call succeeds',
    operator: 'circuitBreak',
    call: 'circuitBreak(new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10 }))',
    lanes: {
      request: '-a--b--c--d------e--',
      output: '-F--F--O--O------e--',
      state: 'c---o---------h--c--',
    },
    laneValues: {
      request: { a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' },
      state: BREAKER_STATES,
    },
    notes: [
      'F: the call failed (upstream error)',
      'O: refused at once with CircuitOpenError (upstream not called)',
      'state: c = closed, o = open, h = half-open',
    ],
    build: (h) => {
      const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10, scheduler: h.scheduler });
      const calls: Record<string, string> = { a: '#', b: '#', c: '(c|)', d: '(d|)', e: '(e|)' };
      const output = h.source('request').pipe(
        mergeMap((request) =>
          h.cold(calls[request] ?? '|', { [request]: request }).pipe(
            circuitBreak(breaker),
            catchError((error: unknown) => of(isCircuitOpenError(error) ? 'O' : 'F')),
          ),
        ),
      );
      return { output, state: breaker.state$ };
    },
  },
];
