import { Registry } from 'prom-client';
import { NEVER, of, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, circuitBreak } from '../../src/index.js';
import { registerCircuitBreaker } from '../../src/prometheus/index.js';
import { testScheduler } from '../helpers/marbles.js';
import { parseExposition } from './exposition.js';

function call(breaker: CircuitBreaker<any>, source: Observable<number>): void {
  source.pipe(circuitBreak(breaker)).subscribe({ error: () => undefined });
}

const down = throwError(() => new Error('down'));

describe('registerCircuitBreaker', () => {
  it('exports the state as a 1/0 gauge per state and calls by outcome, read at scrape time', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeout: 100, scheduler: ts });
    registerCircuitBreaker(breaker, { name: 'payments', registry, labels: { service: 'checkout' } });
    const service = { service: 'checkout' };

    let scrape = parseExposition(await registry.metrics());
    expect(scrape.types).toEqual({ payments_state: 'gauge', payments_calls_total: 'counter' });
    expect(scrape.value('payments_state', { ...service, state: 'closed' })).toBe(1);
    expect(scrape.value('payments_state', { ...service, state: 'open' })).toBe(0);

    call(breaker, of(1));
    call(breaker, of(2));
    for (let i = 0; i < 3; i++) call(breaker, down); // opens
    call(breaker, of(3)); // refused
    call(breaker, of(4)); // refused
    scrape = parseExposition(await registry.metrics());
    const outcome = (o: string): number => scrape.value('payments_calls_total', { ...service, outcome: o });
    expect(['success', 'slow', 'failure', 'timeout', 'rejected'].map(outcome)).toEqual([2, 0, 3, 0, 2]);
    expect(
      ['closed', 'open', 'half-open', 'isolated'].map((s) => scrape.value('payments_state', { state: s })),
    ).toEqual([0, 1, 0, 0]);

    ts.schedule(() => undefined, 100);
    ts.flush(); // half-open is due: a scrape looks at the breaker, so it reads half-open
    scrape = parseExposition(await registry.metrics());
    expect(scrape.value('payments_state', { state: 'half-open' })).toBe(1);
  });

  it('counts slow successes as slow and timeouts as timeout (disjoint from success and failure)', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const breaker = new CircuitBreaker({ failureThreshold: 10, slowCallDuration: 5, callTimeout: 20, scheduler: ts });
    registerCircuitBreaker(breaker, { name: 'search', registry });
    ts.run(({ cold }) => {
      call(breaker, cold('-(a|)', { a: 1 })); // fast
      call(breaker, cold('------(a|)', { a: 1 })); // 6 ms: slow
      call(breaker, cold('------#')); // slow failure: a failure
      call(breaker, NEVER); // times out at 20
    });
    const scrape = parseExposition(await registry.metrics());
    const outcome = (o: string): number => scrape.value('search_calls_total', { outcome: o });
    expect(['success', 'slow', 'failure', 'timeout', 'rejected'].map(outcome)).toEqual([1, 1, 1, 1, 0]);
  });

  it('shares a name across breakers with the same label names, a series each; unregister removes only its own', async () => {
    const registry = new Registry();
    const payments = new CircuitBreaker({ failureThreshold: 1 });
    const search = new CircuitBreaker({ failureThreshold: 1 });
    const first = registerCircuitBreaker(payments, { name: 'breaker', registry, labels: { downstream: 'payments' } });
    registerCircuitBreaker(search, { name: 'breaker', registry, labels: { downstream: 'search' } });
    call(payments, down);
    let scrape = parseExposition(await registry.metrics());
    expect(scrape.value('breaker_state', { downstream: 'payments', state: 'open' })).toBe(1);
    expect(scrape.value('breaker_state', { downstream: 'search', state: 'closed' })).toBe(1);
    expect(() =>
      registerCircuitBreaker(search, { name: 'breaker', registry, labels: { downstream: 'search' } }),
    ).toThrow(/already registered with the labels/);
    expect(() => registerCircuitBreaker(search, { name: 'breaker', registry, labels: { team: 'x' } })).toThrow(
      /same label names/,
    );
    first.unregister();
    scrape = parseExposition(await registry.metrics());
    expect(scrape.samples.some((s) => s.labels['downstream'] === 'payments')).toBe(false);
    expect(scrape.value('breaker_state', { downstream: 'search', state: 'closed' })).toBe(1);
  });

  it('rejects what is not a breaker, bad names and reserved labels at the call', () => {
    const registry = new Registry();
    const breaker = new CircuitBreaker({});
    expect(() => registerCircuitBreaker({ state: 'closed' } as never, { name: 'x', registry })).toThrow(
      new TypeError('registerCircuitBreaker: breaker must be a CircuitBreaker, got an object'),
    );
    expect(() => registerCircuitBreaker(breaker, { name: '1x', registry })).toThrow(RangeError);
    expect(() => registerCircuitBreaker(breaker, { name: 'x', registry, labels: { state: 'a' } })).toThrow(
      /registerCircuitBreaker: labels must be keyed by Prometheus label names/,
    );
    expect(() => registerCircuitBreaker(breaker, { name: 'x', registry, extra: 1 } as never)).toThrow(
      /unknown option "extra"/,
    );
  });
});
