import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge, Registry, register as globalRegistry } from 'prom-client';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, bufferBounded, dropOnFull } from '../../src/index.js';
import { QUEUE_TIME_QUANTILES, registerQueueMetrics } from '../../src/prometheus/index.js';
import { DROP_REASONS } from '../../src/types.js';
import { testScheduler } from '../helpers/marbles.js';
import { parseExposition } from './exposition.js';

describe('registerQueueMetrics', () => {
  it('exports gauges, counters by reason and queue-time quantiles, read at scrape time', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const metrics = new QueueMetrics({ scheduler: ts });
    registerQueueMetrics(metrics, { name: 'jobs', registry, labels: { service: 'api' } });
    const lossy = new Subject<number>();
    const lossless = new Subject<number>();
    const demand = new Demand();
    lossy.pipe(dropOnFull({ capacity: 2, demand, metrics, scheduler: ts })).subscribe();
    lossless.pipe(bufferBounded({ capacity: 4, metrics, scheduler: ts })).subscribe();
    for (let i = 0; i < 5; i++) lossy.next(i); // 2 queued at 0, 3 dropped ('overflow')
    for (let i = 0; i < 3; i++) lossless.next(i); // delivered at once
    ts.schedule(() => demand.request(1), 250); // 0 waited 250 ms
    ts.flush();

    const scrape = parseExposition(await registry.metrics());
    const service = { service: 'api' };
    expect(scrape.types).toEqual({
      jobs_depth: 'gauge',
      jobs_capacity: 'gauge',
      jobs_enqueued_total: 'counter',
      jobs_dequeued_total: 'counter',
      jobs_dropped_total: 'counter',
      jobs_queue_time_seconds: 'histogram',
      jobs_queue_time_quantile_seconds: 'gauge',
    });
    expect(scrape.value('jobs_depth', service)).toBe(1);
    expect(scrape.value('jobs_capacity', service)).toBe(6);
    expect(scrape.value('jobs_enqueued_total', service)).toBe(8);
    expect(scrape.value('jobs_dequeued_total', service)).toBe(4);
    for (const reason of DROP_REASONS) {
      expect(scrape.value('jobs_dropped_total', { ...service, reason })).toBe(reason === 'overflow' ? 3 : 0);
    }
    expect(scrape.samples.every((s) => s.labels['service'] === 'api')).toBe(true);
    // waits: 0, 0, 0, 250 ms
    expect(scrape.value('jobs_queue_time_quantile_seconds', { ...service, quantile: '0.5' })).toBe(0);
    const p99 = scrape.value('jobs_queue_time_quantile_seconds', { ...service, quantile: '0.99' });
    expect(Math.abs(p99 - 0.25)).toBeLessThanOrEqual(0.02 * 0.25);
    expect(QUEUE_TIME_QUANTILES).toEqual([0.5, 0.9, 0.99, 0.999]);

    demand.request(1); // values change between scrapes, with nothing running in between
    const next = parseExposition(await registry.metrics());
    expect(next.value('jobs_depth', service)).toBe(0);
    expect(next.value('jobs_dequeued_total', service)).toBe(5);
    expect(next.value('jobs_dropped_total', { reason: 'overflow' })).toBe(3);
  });

  it('exports series without labels when none are given', async () => {
    const registry = new Registry();
    registerQueueMetrics(new QueueMetrics(), { name: 'q', registry });
    const scrape = parseExposition(await registry.metrics());
    expect(scrape.samples.find((s) => s.name === 'q_depth')).toEqual({ name: 'q_depth', labels: {}, value: 0 });
    expect(scrape.value('q_enqueued_total')).toBe(0);
  });

  it('unregisters everything it added, and only that', async () => {
    const registry = new Registry();
    const registration = registerQueueMetrics(new QueueMetrics(), { name: 'a', registry });
    registerQueueMetrics(new QueueMetrics(), { name: 'b', registry });
    expect(registration.names).toEqual([
      'a_depth',
      'a_capacity',
      'a_enqueued_total',
      'a_dequeued_total',
      'a_dropped_total',
      'a_queue_time_seconds',
      'a_queue_time_quantile_seconds',
    ]);
    registration.unregister();
    registration.unregister();
    const names = new Set(parseExposition(await registry.metrics()).samples.map((s) => s.name));
    expect([...names].every((n) => n.startsWith('b_'))).toBe(true);
    // 6 gauges and counters, and the histogram's _bucket, _sum and _count
    expect(names.size).toBe(9);
    registerQueueMetrics(new QueueMetrics(), { name: 'a', registry }); // the name is free again
  });

  it('uses the global registry by default', async () => {
    const registration = registerQueueMetrics(new QueueMetrics(), { name: 'rxjs_backpressure_default_spec' });
    try {
      expect(globalRegistry.getSingleMetric('rxjs_backpressure_default_spec_depth')).toBeDefined();
    } finally {
      registration.unregister();
    }
    expect(globalRegistry.getSingleMetric('rxjs_backpressure_default_spec_depth')).toBeUndefined();
  });

  it('refuses a name already taken, without registering half', () => {
    const registry = new Registry();
    registerQueueMetrics(new QueueMetrics(), { name: 'dup', registry });
    expect(() => registerQueueMetrics(new QueueMetrics(), { name: 'dup', registry })).toThrow(
      'registerQueueMetrics: dup_* is already registered with the labels {}',
    );
    expect(registry.getMetricsAsArray()).toHaveLength(7);
    // a metric of that name registered by someone else
    new Gauge({ name: 'other_capacity', help: 'not ours', registers: [registry] });
    expect(() => registerQueueMetrics(new QueueMetrics(), { name: 'other', registry })).toThrow(
      'registerQueueMetrics: a metric named other_capacity is already registered',
    );
    expect(registry.getMetricsAsArray()).toHaveLength(8);
  });

  it('registers again after registry.clear() took the metrics away, and an old unregister leaves the new ones', async () => {
    const registry = new Registry();
    const old = registerQueueMetrics(new QueueMetrics(), { name: 'jobs', registry, labels: { queue: 'a' } });
    registry.clear();
    registerQueueMetrics(new QueueMetrics(), { name: 'jobs', registry, labels: { queue: 'b' } });
    expect(await registry.metrics()).toContain('jobs_depth{queue="b"} 0');
    old.unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(7);
    expect(await registry.metrics()).toContain('jobs_depth{queue="b"} 0');
  });

  it('exports queues that share a name as one family, a series per label value', async () => {
    const registry = new Registry();
    const orders = new QueueMetrics();
    const payments = new QueueMetrics();
    const source = new Subject<number>();
    source.pipe(dropOnFull({ capacity: 1, metrics: orders })).subscribe();
    source.next(1);
    source.next(2);
    const first = registerQueueMetrics(orders, { name: 'queue', registry, labels: { queue: 'orders' } });
    const second = registerQueueMetrics(payments, { name: 'queue', registry, labels: { queue: 'payments' } });
    let text = await registry.metrics();
    expect(text).toContain('queue_enqueued_total{queue="orders"} 2');
    expect(text).toContain('queue_enqueued_total{queue="payments"} 0');
    expect(text).toContain('queue_dropped_total{queue="payments",reason="overflow"} 0');
    expect(text.match(/# TYPE queue_enqueued_total counter/g)).toHaveLength(1);
    // the same label values twice, or other label names, are refused
    expect(() =>
      registerQueueMetrics(new QueueMetrics(), { name: 'queue', registry, labels: { queue: 'orders' } }),
    ).toThrow('registerQueueMetrics: queue_* is already registered with the labels {"queue":"orders"}');
    expect(() => registerQueueMetrics(new QueueMetrics(), { name: 'queue', registry, labels: { kind: 'x' } })).toThrow(
      /already registered with the labels \[queue\]/,
    );
    // unregistering one queue removes its series; the last one takes the metrics away
    first.unregister();
    text = await registry.metrics();
    expect(text).not.toContain('queue="orders"');
    expect(text).toContain('queue_enqueued_total{queue="payments"} 0');
    second.unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    // and the name is free again
    registerQueueMetrics(orders, { name: 'queue', registry });
    expect(registry.getMetricsAsArray()).toHaveLength(7);
  });

  it('validates its arguments', () => {
    const registry = new Registry();
    const metrics = new QueueMetrics();
    expect(() => registerQueueMetrics({} as never, { name: 'x', registry })).toThrow(TypeError);
    expect(() => registerQueueMetrics(metrics, { name: '1jobs', registry })).toThrow(
      new RangeError(
        'registerQueueMetrics: name must be a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got "1jobs"',
      ),
    );
    expect(() => registerQueueMetrics(metrics, { name: 'my-queue', registry })).toThrow(RangeError);
    expect(() => registerQueueMetrics(metrics, { name: '', registry })).toThrow(RangeError);
    expect(() => registerQueueMetrics(metrics, { name: 3 as never, registry })).toThrow(TypeError);
    expect(() => registerQueueMetrics(metrics, undefined as never)).toThrow(TypeError);
    expect(() => registerQueueMetrics(metrics, { name: 'x', registry, prefix: 'y' } as never)).toThrow(TypeError);
    expect(() => registerQueueMetrics(metrics, { name: 'x', registry: {} as never })).toThrow(TypeError);
    expect(() => registerQueueMetrics(metrics, { name: 'x', registry, labels: { reason: 'a' } })).toThrow(RangeError);
    expect(() => registerQueueMetrics(metrics, { name: 'x', registry, labels: { 'a-b': 'a' } })).toThrow(RangeError);
    expect(() => registerQueueMetrics(metrics, { name: 'x', registry, labels: { __x: 'a' } })).toThrow(RangeError);
    expect(() => registerQueueMetrics(metrics, { name: 'x', registry, labels: { a: 1 as never } })).toThrow(TypeError);
    expect(() => registerQueueMetrics(metrics, { name: 'x', registry, labels: [] as never })).toThrow(TypeError);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('is the only place that imports prom-client (the core entry never does)', () => {
    const root = join(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.ts$/.test(entry.name) && !path.startsWith(join(root, 'prometheus'))) {
          if (
            /from\s+['"]prom-client['"]|require\(\s*['"]prom-client['"]\s*\)|import\(\s*['"]prom-client/.test(
              readFileSync(path, 'utf8'),
            )
          ) {
            offenders.push(path);
          }
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
