import { Counter, Gauge, register as defaultRegistry } from 'prom-client';
import type { Metric, Registry } from 'prom-client';
import { recorderOf } from '../metrics/port.js';
import type { QueueMetrics } from '../metrics/QueueMetrics.js';
import { QueueTimeBuckets } from '../metrics/QueueTimeBuckets.js';
import { fail, settings, withDefault } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import { DROP_REASONS } from '../types.js';
import { constantLabels, metricName, promRegistry } from './checks.js';

/** Options of {@link registerQueueMetrics}. */
export interface RegisterQueueMetricsOptions {
  /** Prefix of every metric name, e.g. `'orders_queue'` (Prometheus metric name rules: `[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string;
  /** The prom-client registry to add the metrics to. Default prom-client's global `register`. */
  registry?: Registry | undefined;
  /**
   * Constant labels on every series, e.g. `{ queue: 'orders' }` (not `reason`, `quantile` or `le`, which are taken).
   */
  labels?: Record<string, string> | undefined;
  /**
   * Upper bounds in seconds of the queue-time histogram's buckets (`le`), finite, >= 0 and strictly increasing; the
   * `+Inf` bucket is added. Queues sharing a `name` must use the same buckets. Default {@link QUEUE_TIME_BUCKETS}.
   */
  buckets?: readonly number[] | undefined;
}

/** What {@link registerQueueMetrics} added, and how to take it away again. */
export interface QueueMetricsRegistration {
  /** The metric names this queue is exported under. */
  readonly names: readonly string[];
  /** Removes this queue's series; with the last queue of the name, the metrics themselves. */
  unregister(): void;
}

const OPERATOR = 'registerQueueMetrics';
const RESERVED_LABELS = ['reason', 'quantile', 'le'];
/**
 * The quantiles exported for queue time, as the `quantile` label of `<name>_queue_time_quantile_seconds`.
 *
 * These are one process's percentiles over every value since the QueueMetrics was created: they never decay and
 * cannot be averaged across instances. For dashboards and alerts across instances, use the histogram
 * `<name>_queue_time_seconds` (see {@link QUEUE_TIME_BUCKETS}).
 *
 * ```
 * metrics.queueTime(0.5) = 120 ms, queueTime(0.99) = 900 ms
 * scrape:  jobs_queue_time_quantile_seconds{quantile="0.5"} 0.12 / {quantile="0.99"} 0.9 / ...
 * ```
 *
 * ## Example
 * ```ts
 * import { QUEUE_TIME_QUANTILES } from 'rxjs-backpressure/prometheus';
 *
 * // one series per exported quantile
 * const queries = QUEUE_TIME_QUANTILES.map((q) => `jobs_queue_time_quantile_seconds{quantile="${q}"}`);
 * ```
 */
export const QUEUE_TIME_QUANTILES: readonly number[] = [0.5, 0.9, 0.99, 0.999];

/**
 * The default buckets (upper bounds in seconds, `le`) of the queue-time histogram `<name>_queue_time_seconds`: from
 * 1 ms to 60 s, about 2.5x apart, so that `histogram_quantile` reads a p99 anywhere in that range within one bucket,
 * and the default `queueTimeP99` alert threshold (5 s) is a bucket boundary.
 *
 * A value emitted at once (queue time 0) counts in every bucket. Values waiting longer than 60 s count only in
 * `+Inf`. Pass `buckets` to {@link registerQueueMetrics} for other bounds; every instance that is aggregated together
 * must use the same ones.
 *
 * ```
 * waits:   0, 0, 3 ms, 40 ms, 7 s
 * scrape:  jobs_queue_time_seconds_bucket{le="0.001"} 2 / {le="0.005"} 3 / {le="0.05"} 4 / {le="10"} 5
 *          {le="+Inf"} 5 / jobs_queue_time_seconds_sum 7.043 / jobs_queue_time_seconds_count 5
 * ```
 *
 * ## Example
 * ```ts
 * import { QueueMetrics } from 'rxjs-backpressure';
 * import { QUEUE_TIME_BUCKETS, registerQueueMetrics } from 'rxjs-backpressure/prometheus';
 *
 * // the defaults plus a 2-minute bucket for a slow batch queue
 * registerQueueMetrics(new QueueMetrics(), { name: 'batch', buckets: [...QUEUE_TIME_BUCKETS, 120] });
 * ```
 */
export const QUEUE_TIME_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/**
 * Registers a {@link QueueMetrics} with a prom-client registry; every value is read from the metrics at scrape time.
 *
 * Adds, for `name` = `orders_queue`:
 * - `orders_queue_depth`, `orders_queue_capacity` (gauges)
 * - `orders_queue_enqueued_total`, `orders_queue_dequeued_total` (counters)
 * - `orders_queue_dropped_total{reason}` (counter, one series per drop reason, zeros included)
 * - `orders_queue_queue_time_seconds` (a histogram: `_bucket{le}`, `_sum`, `_count`): exact counts of the values
 *   dequeued since this call, by how long they waited, in the buckets of the `buckets` option
 *   ({@link QUEUE_TIME_BUCKETS} by default). This is the series to aggregate across instances and to alert on:
 *   `histogram_quantile(0.99, sum by (le) (rate(orders_queue_queue_time_seconds_bucket[5m])))`.
 * - `orders_queue_queue_time_quantile_seconds{quantile="0.5"|"0.9"|"0.99"|"0.999"}` (a gauge with a `quantile` label,
 *   like a Summary's quantiles, from the fixed-memory histogram: 2% relative error, over every value since the
 *   QueueMetrics was created, one process only)
 *
 * The histogram counts from registration: its `_count` is the values dequeued since this call (equal to
 * `dequeued_total` when the QueueMetrics is registered before its first value, as usual), its `_sum` their queue time
 * in seconds. A value emitted at once counts with queue time 0, in every bucket. Counting costs nothing for values
 * emitted at once and one bucket search for each value that waited; `unregister()` stops it.
 *
 * Several queues may share a `name` in one registry when they have the same label names with different values
 * (`{ queue: 'orders' }`, `{ queue: 'payments' }`) and the same buckets: one metric family, a series per queue, as
 * Prometheus prefers. The same name with other label names or other buckets, or the same labels twice, throws.
 * `unregister()` removes that queue's series, and the metrics themselves with the last one.
 *
 * Nothing runs between scrapes: no timer. prom-client is an optional peer dependency, needed only for this entry point.
 *
 * ```
 * metrics:  depth 3, capacity 10, enqueued 120, dequeued 110, dropped 7 (overflow 7)
 * registerQueueMetrics(metrics, { name: 'jobs' })
 * scrape:   jobs_depth 3 / jobs_capacity 10 / jobs_enqueued_total 120 / jobs_dequeued_total 110
 *           jobs_dropped_total{reason="overflow"} 7 / jobs_queue_time_seconds_bucket{le="0.25"} 104 ...
 *           jobs_queue_time_seconds_count 110 / jobs_queue_time_quantile_seconds{quantile="0.99"} 0.25 ...
 * ```
 *
 * ## Example
 * ```ts
 * import { QueueMetrics, drain, dropOnFull } from 'rxjs-backpressure';
 * import { registerQueueMetrics } from 'rxjs-backpressure/prometheus';
 * import { register } from 'prom-client';
 *
 * const metrics = new QueueMetrics();
 * const registration = registerQueueMetrics(metrics, { name: 'jobs', labels: { service: 'api' } });
 * jobs$.pipe(dropOnFull({ capacity: 1000, metrics }), drain(run, { concurrency: 8 })).subscribe();
 * // serve `await register.metrics()` on /metrics; on shutdown: registration.unregister()
 * ```
 *
 * @param metrics the QueueMetrics to expose (several operators may share it: their sum is exported)
 * @param options `name` (required), `registry`, `labels`, `buckets` (histogram upper bounds in seconds)
 * @returns the names added and `unregister()`
 * @see {@link QueueMetrics}
 */
export function registerQueueMetrics(
  metrics: QueueMetrics,
  options: RegisterQueueMetricsOptions,
): QueueMetricsRegistration {
  if (!readsLikeQueueMetrics(metrics)) fail(OPERATOR, 'metrics', 'a QueueMetrics', metrics, 'type');
  if (recorderOf(metrics)!.observe === undefined) {
    fail(OPERATOR, 'metrics', 'a QueueMetrics of a version that can export a histogram', metrics, 'type');
  }
  const { name: prefix, registry, labels, buckets } = settings(OPERATOR, REGISTER_QUEUE_METRICS_SCHEMA, options);
  const labelNames = Object.keys(labels).sort();
  const key = JSON.stringify(labelNames.map((label) => labels[label]));
  let families = familiesOf.get(registry);
  if (families === undefined) familiesOf.set(registry, (families = new Map()));
  let family = families.get(prefix);
  // registry.clear() or removeSingleMetric() may have taken the family's metrics away: then it is gone
  if (family !== undefined && registry.getSingleMetric(family.names[0]!) !== family.depth) family = undefined;
  if (family === undefined) {
    family = createFamily(registry, prefix, labelNames, buckets);
    families.set(prefix, family);
  } else if (family.labelNames.join() !== labelNames.join()) {
    throw new Error(
      `${OPERATOR}: ${prefix}_* is already registered with the labels [${family.labelNames.join(', ')}]; ` +
        `a queue sharing its name must have the same label names with other values, got [${labelNames.join(', ')}]`,
    );
  } else if (family.buckets.join() !== buckets.join()) {
    throw new Error(
      `${OPERATOR}: ${prefix}_queue_time_seconds is already registered with the buckets ` +
        `[${family.buckets.join(', ')}]; ` +
        `a queue sharing its name must use the same buckets, got [${buckets.join(', ')}]`,
    );
  } else if (family.members.has(key)) {
    throw new Error(`${OPERATOR}: ${prefix}_* is already registered with the labels ${JSON.stringify(labels)}`);
  }
  const { members, names } = family;
  const waits = new QueueTimeBuckets(metrics, buckets);
  members.set(key, { labels, metrics, waits });

  let registered = true;
  return {
    names,
    unregister() {
      if (!registered) return;
      registered = false;
      waits.detach();
      members.delete(key);
      if (members.size > 0) return;
      if (families.get(prefix) !== family) return; // taken away by the registry: nothing of it is left to remove
      families.delete(prefix);
      if (registry.getSingleMetric(names[0]!) !== family.depth) return;
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

/** The queues exported under one name in one registry, told apart by their label values. */
interface Family {
  readonly labelNames: readonly string[];
  readonly names: readonly string[];
  /** The histogram's upper bounds in seconds, the same for every queue of the family. */
  readonly buckets: readonly number[];
  /** The depth gauge, to tell whether the registry still holds this family. */
  depth?: Gauge;
  /** By the JSON of their label values, in label-name order. */
  readonly members: Map<string, Member>;
}

/** One registered queue: its labels, its metrics, and the exact histogram counting since its registration. */
interface Member {
  labels: Record<string, string>;
  metrics: QueueMetrics;
  waits: QueueTimeBuckets;
}

/** Per registry, the families registered in it by name. */
const familiesOf = new WeakMap<Registry, Map<string, Family>>();

function createFamily(
  registry: Registry,
  prefix: string,
  labelNames: readonly string[],
  buckets: readonly number[],
): Family {
  const names = [
    `${prefix}_depth`,
    `${prefix}_capacity`,
    `${prefix}_enqueued_total`,
    `${prefix}_dequeued_total`,
    `${prefix}_dropped_total`,
    `${prefix}_queue_time_seconds`,
    `${prefix}_queue_time_quantile_seconds`,
  ] as const;
  const [depth, capacity, enqueued, dequeued, dropped, queueTime, quantiles] = names;
  // the histogram's series names too: a metric registered under one of them would clash in the exposition
  for (const name of [...names, `${queueTime}_bucket`, `${queueTime}_sum`, `${queueTime}_count`]) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new Error(`${OPERATOR}: a metric named ${name} is already registered`);
    }
  }
  const family: Family = { labelNames, names, buckets, members: new Map() };
  const { members } = family;
  const registers = [registry];
  const plain = [...labelNames];

  family.depth = new Gauge({
    name: depth,
    help: 'Values queued now.',
    labelNames: plain,
    registers,
    collect() {
      this.reset();
      for (const { labels, metrics } of members.values()) this.set(labels, metrics.depth);
    },
  });
  new Gauge({
    name: capacity,
    help: 'Summed capacity of the queue operators subscribed now.',
    labelNames: plain,
    registers,
    collect() {
      this.reset();
      for (const { labels, metrics } of members.values()) this.set(labels, metrics.capacity);
    },
  });
  new Counter({
    name: enqueued,
    help: 'Values received by the queue operators (delivered at once or queued).',
    labelNames: plain,
    registers,
    collect() {
      this.reset();
      for (const { labels, metrics } of members.values()) this.inc(labels, metrics.enqueued);
    },
  });
  new Counter({
    name: dequeued,
    help: 'Values emitted by the queue operators.',
    labelNames: plain,
    registers,
    collect() {
      this.reset();
      for (const { labels, metrics } of members.values()) this.inc(labels, metrics.dequeued);
    },
  });
  new Counter({
    name: dropped,
    help: 'Values dropped by the queue operators, by reason.',
    labelNames: [...labelNames, 'reason'],
    registers,
    collect() {
      this.reset();
      for (const { labels, metrics } of members.values()) {
        for (const reason of DROP_REASONS) this.inc({ ...labels, reason }, metrics.droppedBy(reason));
      }
    },
  });
  registry.registerMetric(queueTimeHistogram(queueTime, labelNames, buckets, members));
  new Gauge({
    name: quantiles,
    help:
      'Time values waited in the queue, in seconds, at each quantile since start, this process only ' +
      '(2% relative error).',
    labelNames: [...labelNames, 'quantile'],
    registers,
    collect() {
      this.reset();
      for (const { labels, metrics } of members.values()) {
        for (const q of QUEUE_TIME_QUANTILES) this.set({ ...labels, quantile: String(q) }, metrics.queueTime(q) / 1000);
      }
    },
  });
  return family;
}

/**
 * The queue-time histogram as a prom-client metric: read at scrape time from each member's exact bucket counts.
 *
 * prom-client's own Histogram can only be fed one observation at a time, which would cost a call per value emitted at
 * once (the fast path); this metric implements what a registry reads of a metric (`get()`, `reset()`, `name`,
 * `help`, `type`, `aggregator`, the same as prom-client's Histogram reports, cluster aggregation by sum included).
 */
function queueTimeHistogram(
  name: string,
  labelNames: readonly string[],
  buckets: readonly number[],
  members: ReadonlyMap<string, Member>,
): Metric {
  const help =
    'Time values waited in the queue, in seconds (exact counts since registration; 0 for values emitted at once).';
  const le = [...buckets.map(String), '+Inf'];
  const histogram = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames: [...labelNames],
    get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramSample[] }> {
      const values: HistogramSample[] = [];
      for (const { labels, waits } of members.values()) {
        const counts = waits.cumulative();
        for (let i = 0; i < le.length; i++) {
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: le[i]! }, value: counts[i]! });
        }
        values.push({ metricName: `${name}_sum`, labels: { ...labels }, value: waits.sum });
        values.push({ metricName: `${name}_count`, labels: { ...labels }, value: counts[le.length - 1]! });
      }
      return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values });
    },
    reset(): void {
      // read from the queues at every scrape, like the collect() of the gauges and counters: nothing to reset
    },
  };
  return histogram as unknown as Metric;
}

/** One sample of the histogram as a registry formats it: `metricName{labels} value`. */
interface HistogramSample {
  metricName: string;
  labels: Record<string, string>;
  value: number;
}

/** The options of {@link registerQueueMetrics}, one check each. */
const REGISTER_QUEUE_METRICS_SCHEMA = {
  name: metricName,
  registry: withDefault(promRegistry, defaultRegistry),
  labels: constantLabels(RESERVED_LABELS),
  buckets: withDefault(histogramBuckets, QUEUE_TIME_BUCKETS),
} satisfies Schema<RegisterQueueMetricsOptions>;

/** Histogram upper bounds in seconds: a non-empty array of finite numbers >= 0, strictly increasing. */
function histogramBuckets(operator: string, option: string, value: unknown): readonly number[] {
  const expected = 'a non-empty array of finite numbers >= 0 in increasing order (seconds)';
  if (!Array.isArray(value)) fail(operator, option, expected, value, 'type');
  if (value.length === 0) fail(operator, option, expected, value, 'range');
  const bounds: number[] = [];
  value.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number') fail(operator, `${option}[${i}]`, 'a number', bound, 'type');
    if (!Number.isFinite(bound) || bound < 0) fail(operator, `${option}[${i}]`, 'a finite number >= 0', bound, 'range');
    if (i > 0 && !(bound > bounds[i - 1]!)) {
      fail(operator, `${option}[${i}]`, `greater than the bucket before it (${bounds[i - 1]!})`, bound, 'range');
    }
    bounds.push(bound);
  });
  return Object.freeze(bounds);
}

/**
 * A {@link QueueMetrics} by what the collectors read, so one from another copy of the package (the ESM and the
 * CommonJS build, two installs) is accepted too.
 */
function readsLikeQueueMetrics(value: unknown): value is QueueMetrics {
  // By its versioned recording port, so a QueueMetrics from another copy of the package is accepted too.
  return recorderOf(value) !== undefined;
}

// The resilience wing: circuit breakers and concurrency limiters (see breaker.ts, limiter.ts).
