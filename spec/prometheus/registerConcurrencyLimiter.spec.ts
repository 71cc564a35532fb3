import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { adaptiveConcurrency } from '../../src/index.js';
import { registerConcurrencyLimiter } from '../../src/prometheus/index.js';
import { Clock } from '../contract/registry.js';
import { parseExposition } from './exposition.js';

const PORT = Symbol.for('rxjs-backpressure.concurrency-limiter.v1');

describe('registerConcurrencyLimiter', () => {
  it('exports the current limit as a gauge, read at scrape time', async () => {
    const clock = new Clock();
    const registry = new Registry();
    const limiter = adaptiveConcurrency({ algorithm: 'aimd', initial: 5, scheduler: clock });
    registerConcurrencyLimiter(limiter, { name: 'search_concurrency', registry, labels: { downstream: 'search' } });
    let scrape = parseExposition(await registry.metrics());
    expect(scrape.types).toEqual({ search_concurrency_limit: 'gauge' });
    expect(scrape.value('search_concurrency_limit', { downstream: 'search' })).toBe(5);
    // one window of ten samples with every permit in use: aimd adds one
    const port = (limiter as unknown as Record<symbol, { tryAcquire(): boolean; release(s?: object): void }>)[PORT]!;
    for (let i = 0; i < 10; i++) {
      for (let p = 0; p < 5; p++) port.tryAcquire();
      clock.advance(20);
      for (let p = 0; p < 5; p++) port.release({ rtt: 20, failed: false });
    }
    scrape = parseExposition(await registry.metrics());
    expect(scrape.value('search_concurrency_limit', { downstream: 'search' })).toBe(6);
  });

  it('one family for limiters sharing a name; unregister removes its own series; rejects what is not a limiter', async () => {
    const registry = new Registry();
    const a = registerConcurrencyLimiter(adaptiveConcurrency({ initial: 2 }), {
      name: 'c',
      registry,
      labels: { d: 'a' },
    });
    registerConcurrencyLimiter(adaptiveConcurrency({ initial: 3 }), { name: 'c', registry, labels: { d: 'b' } });
    expect(parseExposition(await registry.metrics()).value('c_limit', { d: 'a' })).toBe(2);
    a.unregister();
    const scrape = parseExposition(await registry.metrics());
    expect(scrape.samples.map((s) => s.labels['d'])).toEqual(['b']);
    expect(() => registerConcurrencyLimiter({ limit: 3 } as never, { name: 'x', registry })).toThrow(
      new TypeError('registerConcurrencyLimiter: limiter must be a ConcurrencyLimiter, got an object'),
    );
  });
});
