import { Counter, Gauge } from 'prom-client';
import type { CircuitBreaker } from '../breaker/CircuitBreaker.js';
import { CALL_OUTCOMES, breakerPort } from '../breaker/port.js';
import type { BreakerPort } from '../breaker/port.js';
import { STATES } from '../breaker/snapshot.js';
import { fail } from '../internal/options.js';
import { registerMember } from './family.js';
import type { FamilyKind, RegisterOptions, Registration } from './family.js';

/** Options of {@link registerCircuitBreaker}. */
export type RegisterCircuitBreakerOptions = RegisterOptions;

/** What {@link registerCircuitBreaker} added, and how to take it away again. */
export type CircuitBreakerRegistration = Registration;

interface Watched {
  readonly breaker: CircuitBreaker<any>;
  readonly port: BreakerPort;
}

const BREAKERS: FamilyKind<Watched> = {
  operator: 'registerCircuitBreaker',
  reserved: ['state', 'outcome'],
  check(value) {
    const port = breakerPort(value);
    if (port === undefined) fail('registerCircuitBreaker', 'breaker', 'a CircuitBreaker', value, 'type');
    return { breaker: value as CircuitBreaker<any>, port };
  },
  suffixes: ['state', 'calls_total'],
  create(registry, [state, calls], labelNames, members) {
    const registers = [registry];
    return [
      new Gauge({
        name: state!,
        help: 'The circuit state: 1 for the state it is in (closed, open, half-open, isolated), 0 for the others.',
        labelNames: [...labelNames, 'state'],
        registers,
        collect() {
          this.reset();
          for (const { labels, source } of members.values()) {
            const current = source.breaker.state;
            for (const s of STATES) this.set({ ...labels, state: s }, s === current ? 1 : 0);
          }
        },
      }),
      new Counter({
        name: calls!,
        help:
          'Calls through the breaker by outcome (disjoint): success, slow (succeeded in slowCallDuration or more), ' +
          'failure, timeout (past callTimeout), rejected (refused while open).',
        labelNames: [...labelNames, 'outcome'],
        registers,
        collect() {
          this.reset();
          for (const { labels, source } of members.values()) {
            for (const outcome of CALL_OUTCOMES) this.inc({ ...labels, outcome }, source.port.outcomes[outcome]);
          }
        },
      }),
    ];
  },
};

/**
 * Registers a {@link CircuitBreaker} with a prom-client registry; every value is read from the breaker at scrape time.
 *
 * Adds, for `name` = `payments_breaker`:
 * - `payments_breaker_state{state="closed"|"open"|"half-open"|"isolated"}`: a gauge, 1 for the state the circuit is
 *   in and 0 for the others (alert on `payments_breaker_state{state="open"} == 1`);
 * - `payments_breaker_calls_total{outcome="success"|"slow"|"failure"|"timeout"|"rejected"}`: a counter of calls by
 *   how they ended, since the breaker was made. The outcomes are disjoint, so they add up to every call judged:
 *   `slow` is a call that succeeded but took `slowCallDuration` or more (counted only when that option is set), a
 *   slow failure is a `failure`, `timeout` a call past `callTimeout`, `rejected` a call refused with
 *   `CircuitOpenError`. An error `isFailure` rejects and a call unsubscribed before any value are not counted.
 *
 * Several breakers may share a `name` in one registry with the same label names and other values
 * (`{ downstream: 'payments' }`, `{ downstream: 'search' }`): one metric family, a series each. The same name with
 * other label names, or the same labels twice, throws. `unregister()` removes that breaker's series, and the metrics
 * with the last one. A breaker from another copy of the package is accepted (recognised by its versioned port).
 * Nothing runs between scrapes: no timer, no hook on the breaker's hot path beyond one integer increment per call.
 *
 * ```
 * calls:   -s-s-x-x-x-r-r-   s succeeds, x fails, r is refused (failureThreshold: 3)
 * registerCircuitBreaker(breaker, { name: 'payments' })
 * scrape:  payments_state{state="open"} 1 / payments_state{state="closed"} 0 / ...
 *          payments_calls_total{outcome="success"} 2 / {outcome="failure"} 3 / {outcome="rejected"} 2 / ...
 * ```
 *
 * ## Example
 * ```ts
 * import { CircuitBreaker } from 'rxjs-backpressure';
 * import { registerCircuitBreaker } from 'rxjs-backpressure/prometheus';
 * import { Registry } from 'prom-client';
 *
 * const registry = new Registry();
 * const payments = new CircuitBreaker({ failureRateThreshold: 0.5, callTimeout: 2_000 });
 * const labels = { downstream: 'payments' };
 * const registration = registerCircuitBreaker(payments, { name: 'breaker', registry, labels });
 * // serve `await registry.metrics()` on /metrics; on shutdown: registration.unregister()
 * ```
 *
 * @param breaker the CircuitBreaker to expose
 * @param options `name` (required), `registry`, `labels`
 * @returns the names added and `unregister()`
 * @see {@link CircuitBreaker}
 */
export function registerCircuitBreaker(
  breaker: CircuitBreaker<any>,
  options: RegisterCircuitBreakerOptions,
): CircuitBreakerRegistration {
  return registerMember(BREAKERS, breaker, options);
}
