/**
 * The queue-time histogram of registerQueueMetrics (`<name>_queue_time_seconds_bucket{le}`, `_sum`, `_count`),
 * scraped from a real prom-client registry and parsed from the text exposition.
 *
 * Waits are made exact on a virtual clock: a value offered at t and requested at t + w waited w ms. The expected
 * counts follow from the Prometheus definition of a bucket (the values whose queue time in seconds is <= le), never
 * from what the code printed.
 */
import fc from 'fast-check';
import { AggregatorRegistry, Gauge, Registry } from 'prom-client';
import { Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, expect, it, vi } from 'vitest';
import { Demand, QueueMetrics, dropOnFull } from '../../src/index.js';
import { RECORDER, recorderOf } from '../../src/metrics/port.js';
import { QUEUE_TIME_BUCKETS, registerQueueMetrics } from '../../src/prometheus/index.js';
import { testScheduler } from '../helpers/marbles.js';
import { parseExposition } from './exposition.js';
import type { Exposition } from './exposition.js';

/** Schedules a value offered at `at` that waits `wait` ms in its own queue (0: delivered at once, no demand). */
function valueThatWaits(ts: TestScheduler, metrics: QueueMetrics, at: number, wait: number): void {
  ts.schedule(() => {
    const source = new Subject<number>();
    if (wait === 0) {
      source.pipe(dropOnFull({ capacity: 1, metrics, scheduler: ts })).subscribe();
    } else {
      const demand = new Demand();
      source.pipe(dropOnFull({ capacity: 1, demand, metrics, scheduler: ts })).subscribe();
      ts.schedule(() => demand.request(1), wait);
    }
    source.next(at);
  }, at);
}

function run(ts: TestScheduler): void {
  ts.maxFrames = Number.POSITIVE_INFINITY;
  ts.flush();
}

async function scrape(registry: Registry): Promise<Exposition> {
  return parseExposition(await registry.metrics());
}

/** The `_bucket` samples of one series, by `le`, in exposition order. */
function bucketsOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): [string, number][] {
  return exposition.samples
    .filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => [s.labels['le']!, s.value]);
}

describe('registerQueueMetrics: the queue-time histogram', () => {
  it('counts each value in the buckets its queue time fits, cumulatively, with +Inf = _count and the exact _sum', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const metrics = new QueueMetrics({ scheduler: ts });
    registerQueueMetrics(metrics, { name: 'jobs', registry });
    // queue times: 0, 0 (delivered at once), 3 ms, 5 ms (exactly the bound 0.005: le is inclusive), 40 ms, 7 s
    for (const [at, wait] of [
      [0, 0],
      [10, 0],
      [20, 3],
      [30, 5],
      [40, 40],
      [50, 7000],
    ] as const) {
      valueThatWaits(ts, metrics, at, wait);
    }
    run(ts);

    const exposition = await scrape(registry);
    expect(exposition.types['jobs_queue_time_seconds']).toBe('histogram');
    expect(bucketsOf(exposition, 'jobs_queue_time_seconds')).toEqual([
      ['0.001', 2],
      ['0.0025', 2],
      ['0.005', 4],
      ['0.01', 4],
      ['0.025', 4],
      ['0.05', 5],
      ['0.1', 5],
      ['0.25', 5],
      ['0.5', 5],
      ['1', 5],
      ['2.5', 5],
      ['5', 5],
      ['10', 6],
      ['30', 6],
      ['60', 6],
      ['+Inf', 6],
    ]);
    expect(exposition.value('jobs_queue_time_seconds_count')).toBe(6);
    expect(exposition.value('jobs_queue_time_seconds_sum')).toBeCloseTo(7.048, 12);
    expect(exposition.value('jobs_dequeued_total')).toBe(6);
  });

  it('uses the given buckets (a bucket at 0 counts the values delivered at once) and drops no value into none', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const metrics = new QueueMetrics({ scheduler: ts });
    registerQueueMetrics(metrics, { name: 'q', registry, buckets: [0, 0.1, 2] });
    // 0, 100 ms (on the bound), 101 ms, 3 s (above the largest bound: only +Inf)
    valueThatWaits(ts, metrics, 0, 0);
    valueThatWaits(ts, metrics, 1, 100);
    valueThatWaits(ts, metrics, 2, 101);
    valueThatWaits(ts, metrics, 3, 3000);
    run(ts);
    const exposition = await scrape(registry);
    expect(bucketsOf(exposition, 'q_queue_time_seconds')).toEqual([
      ['0', 1],
      ['0.1', 2],
      ['2', 3],
      ['+Inf', 4],
    ]);
    expect(exposition.value('q_queue_time_seconds_sum')).toBeCloseTo(3.201, 12);
  });

  it('agrees with the definition of a bucket on random waits and buckets', async () => {
    // waits on, just under and just over a bound are the ones that tell <= from <
    const cases = fc.uniqueArray(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 12 }).chain((raw) => {
      const boundsMs = raw.sort((a, b) => a - b);
      const near = boundsMs.flatMap((b) => [b, b + 1, Math.max(0, b - 1)]);
      const wait = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 25_000 }), fc.constantFrom(...near));
      return fc.tuple(fc.constant(boundsMs.map((m) => m / 1000)), fc.array(wait, { maxLength: 40 }));
    });
    await fc.assert(
      fc.asyncProperty(cases, async ([buckets, ms]) => {
        const ts = testScheduler();
        const registry = new Registry();
        const metrics = new QueueMetrics({ scheduler: ts });
        registerQueueMetrics(metrics, { name: 'p', registry, buckets });
        ms.forEach((wait, i) => valueThatWaits(ts, metrics, i, wait));
        run(ts);
        const exposition = await scrape(registry);
        const expected: [string, number][] = buckets.map((le) => [String(le), ms.filter((w) => w / 1000 <= le).length]);
        expected.push(['+Inf', ms.length]);
        expect(bucketsOf(exposition, 'p_queue_time_seconds')).toEqual(expected);
        expect(exposition.value('p_queue_time_seconds_count')).toBe(ms.length);
        const sum = ms.reduce((a, b) => a + b, 0) / 1000;
        expect(Math.abs(exposition.value('p_queue_time_seconds_sum') - sum)).toBeLessThanOrEqual(1e-9 * (1 + sum));
      }),
      { numRuns: 100 },
    );
  });

  it('counts from registration: values dequeued before it are in dequeued_total only', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const metrics = new QueueMetrics({ scheduler: ts });
    valueThatWaits(ts, metrics, 0, 0);
    valueThatWaits(ts, metrics, 1, 10);
    valueThatWaits(ts, metrics, 2, 20);
    run(ts);
    registerQueueMetrics(metrics, { name: 'late', registry, buckets: [0.001, 1] });
    let exposition = await scrape(registry);
    expect(bucketsOf(exposition, 'late_queue_time_seconds')).toEqual([
      ['0.001', 0],
      ['1', 0],
      ['+Inf', 0],
    ]);
    expect(exposition.value('late_queue_time_seconds_sum')).toBe(0);
    expect(exposition.value('late_dequeued_total')).toBe(3);
    // from here on: one at once, one waiting 2 s
    const now = ts.now();
    valueThatWaits(ts, metrics, now + 1, 0);
    valueThatWaits(ts, metrics, now + 2, 2000);
    run(ts);
    exposition = await scrape(registry);
    expect(bucketsOf(exposition, 'late_queue_time_seconds')).toEqual([
      ['0.001', 1],
      ['1', 1],
      ['+Inf', 2],
    ]);
    expect(exposition.value('late_queue_time_seconds_count')).toBe(2);
    expect(exposition.value('late_queue_time_seconds_sum')).toBe(2);
    expect(exposition.value('late_dequeued_total')).toBe(5);
  });

  it('keeps one family for queues sharing a name: a series per label value, each counting its own queue', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const orders = new QueueMetrics({ scheduler: ts });
    const payments = new QueueMetrics({ scheduler: ts });
    const buckets = [0.01, 1];
    const first = registerQueueMetrics(orders, { name: 'queue', registry, labels: { queue: 'orders' }, buckets });
    registerQueueMetrics(payments, { name: 'queue', registry, labels: { queue: 'payments' }, buckets });
    valueThatWaits(ts, orders, 0, 5); // orders: 5 ms
    valueThatWaits(ts, payments, 0, 500); // payments: 500 ms, 2 s
    valueThatWaits(ts, payments, 1, 2000);
    run(ts);
    let exposition = await scrape(registry);
    expect(exposition.types['queue_queue_time_seconds']).toBe('histogram');
    expect((await registry.metrics()).match(/# TYPE queue_queue_time_seconds histogram/g)).toHaveLength(1);
    expect(bucketsOf(exposition, 'queue_queue_time_seconds', { queue: 'orders' })).toEqual([
      ['0.01', 1],
      ['1', 1],
      ['+Inf', 1],
    ]);
    expect(bucketsOf(exposition, 'queue_queue_time_seconds', { queue: 'payments' })).toEqual([
      ['0.01', 0],
      ['1', 1],
      ['+Inf', 2],
    ]);
    expect(exposition.value('queue_queue_time_seconds_sum', { queue: 'payments' })).toBe(2.5);
    expect(exposition.value('queue_queue_time_seconds_count', { queue: 'orders' })).toBe(1);

    // a family has one set of buckets: other buckets under the same name are refused
    expect(() =>
      registerQueueMetrics(new QueueMetrics(), { name: 'queue', registry, labels: { queue: 'refunds' } }),
    ).toThrow(
      'registerQueueMetrics: queue_queue_time_seconds is already registered with the buckets [0.01, 1]; ' +
        `a queue sharing its name must use the same buckets, got [${QUEUE_TIME_BUCKETS.join(', ')}]`,
    );

    // unregistering one queue removes its series; the other keeps counting
    first.unregister();
    valueThatWaits(ts, payments, ts.now() + 1, 0);
    run(ts);
    exposition = await scrape(registry);
    expect(bucketsOf(exposition, 'queue_queue_time_seconds', { queue: 'orders' })).toEqual([]);
    expect(exposition.value('queue_queue_time_seconds_count', { queue: 'payments' })).toBe(3);
    expect(() => exposition.value('queue_queue_time_seconds_sum', { queue: 'orders' })).toThrow('found 0');
  });

  it('attaches one accumulator per registration through the recording port and detaches it on unregister', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const metrics = new QueueMetrics({ scheduler: ts });
    const recorder = recorderOf(metrics)!;
    const stops: ReturnType<typeof vi.fn>[] = [];
    const observe = recorder.observe!;
    const spy = vi.spyOn(recorder, 'observe').mockImplementation((observer) => {
      const stop = vi.fn(observe(observer));
      stops.push(stop);
      return stop;
    });
    const a = registerQueueMetrics(metrics, { name: 'a', registry });
    const b = registerQueueMetrics(metrics, { name: 'b', registry });
    expect(spy).toHaveBeenCalledTimes(2);
    valueThatWaits(ts, metrics, 0, 30);
    run(ts);
    a.unregister();
    a.unregister(); // twice is harmless
    expect(stops.map((stop) => stop.mock.calls.length)).toEqual([1, 0]);
    // b still counts the next wait, and a's names are gone
    valueThatWaits(ts, metrics, ts.now() + 1, 30);
    run(ts);
    const exposition = await scrape(registry);
    expect(exposition.value('b_queue_time_seconds_count')).toBe(2);
    expect(exposition.value('b_queue_time_seconds_sum')).toBeCloseTo(0.06, 12);
    expect(exposition.samples.some((s) => s.name.startsWith('a_'))).toBe(false);
    b.unregister();
    expect(stops.map((stop) => stop.mock.calls.length)).toEqual([1, 1]);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('leaves the QueueMetrics with the same properties, registered or not (one shape for the fast path)', () => {
    // A property added by registration would give registered and unregistered QueueMetrics two hidden classes and
    // make the recorder's reads polymorphic for both: bench/metrics.bench.ts measured that as 2% on the fast path.
    const keys = (m: QueueMetrics): string[] => Reflect.ownKeys(m).map(String);
    const fresh = keys(new QueueMetrics());
    const metrics = new QueueMetrics();
    const registration = registerQueueMetrics(metrics, { name: 'shape', registry: new Registry() });
    expect(keys(metrics)).toEqual(fresh);
    registration.unregister();
    expect(keys(metrics)).toEqual(fresh);
  });

  it('sums across processes as prom-client cluster aggregation does (aggregator "sum")', async () => {
    const ts = testScheduler();
    const workers = [new Registry(), new Registry()];
    workers.forEach((registry, i) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      registerQueueMetrics(metrics, { name: 'w', registry, buckets: [0.1, 1] });
      valueThatWaits(ts, metrics, 0, 50 + 500 * i); // worker 0: 50 ms; worker 1: 550 ms
    });
    run(ts);
    const aggregated = AggregatorRegistry.aggregate(await Promise.all(workers.map((r) => r.getMetricsAsJSON())));
    const exposition = parseExposition(await aggregated.metrics());
    expect(bucketsOf(exposition, 'w_queue_time_seconds')).toEqual([
      ['0.1', 1],
      ['1', 2],
      ['+Inf', 2],
    ]);
    expect(exposition.value('w_queue_time_seconds_sum')).toBeCloseTo(0.6, 12);
    expect(exposition.value('w_queue_time_seconds_count')).toBe(2);
  });

  it('is read at scrape time: registry.resetMetrics() does not lose counts, and the names are reserved', async () => {
    const ts = testScheduler();
    const registry = new Registry();
    const metrics = new QueueMetrics({ scheduler: ts });
    registerQueueMetrics(metrics, { name: 'r', registry, buckets: [1] });
    valueThatWaits(ts, metrics, 0, 10);
    run(ts);
    registry.resetMetrics();
    expect((await scrape(registry)).value('r_queue_time_seconds_count')).toBe(1);
    // a metric already holding one of the histogram's series names makes the registration fail whole
    const other = new Registry();
    new Gauge({ name: 'x_queue_time_seconds_bucket', help: 'not ours', registers: [other] });
    expect(() => registerQueueMetrics(new QueueMetrics(), { name: 'x', registry: other })).toThrow(
      'registerQueueMetrics: a metric named x_queue_time_seconds_bucket is already registered',
    );
  });

  it('rejects bad buckets at the call, and a QueueMetrics whose port cannot feed a histogram', () => {
    const registry = new Registry();
    const metrics = new QueueMetrics();
    const register = (buckets: unknown): unknown =>
      registerQueueMetrics(metrics, { name: 'bad', registry, buckets: buckets as number[] });
    expect(() => register([])).toThrow(
      new RangeError(
        'registerQueueMetrics: buckets must be a non-empty array of finite numbers >= 0 in increasing order (seconds), got an array',
      ),
    );
    expect(() => register(0.5)).toThrow(TypeError);
    expect(() => register('0.1,1')).toThrow(TypeError);
    expect(() => register([0.1, '1'])).toThrow(
      new TypeError('registerQueueMetrics: buckets[1] must be a number, got "1"'),
    );
    expect(() => register([0.1, 0.1])).toThrow(
      new RangeError('registerQueueMetrics: buckets[1] must be greater than the bucket before it (0.1), got 0.1'),
    );
    expect(() => register([1, 0.5])).toThrow(RangeError);
    expect(() => register([-1])).toThrow(
      new RangeError('registerQueueMetrics: buckets[0] must be a finite number >= 0, got -1'),
    );
    expect(() => register([0.1, Infinity])).toThrow(RangeError);
    expect(() => register([NaN])).toThrow(RangeError);
    expect(() => registerQueueMetrics(metrics, { name: 'bad', registry, labels: { le: '1' } })).toThrow(RangeError);
    // a recording port without observe (another copy of the package from before the histogram)
    const older = { [RECORDER]: { ...recorderOf(metrics)!, observe: undefined } };
    expect(() => registerQueueMetrics(older as never, { name: 'bad', registry })).toThrow(TypeError);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });
});
