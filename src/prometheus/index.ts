import { Counter, Gauge, register as defaultRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import { recorderOf } from '../metrics/port.js';
import type { QueueMetrics } from '../metrics/QueueMetrics.js';
import { checkOptions, fail } from '../internal/options.js';
import { DROP_REASONS } from '../types.js';

/** Options of {@link registerQueueMetrics}. */
export interface RegisterQueueMetricsOptions {
  /** Prefix of every metric name, e.g. `'orders_queue'` (Prometheus metric name rules: `[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string;
  /** The prom-client registry to add the metrics to. Default prom-client's global `register`. */
  registry?: Registry | undefined;
  /** Constant labels on every series, e.g. `{ queue: 'orders' }` (not `reason` or `quantile`, which are taken). */
  labels?: Record<string, string> | undefined;
}

/** What {@link registerQueueMetrics} added, and how to take it away again. */
export interface QueueMetricsRegistration {
  /** The metric names this queue is exported under. */
  readonly names: readonly string[];
  /** Removes this queue's series; with the last queue of the name, the metrics themselves. */
  unregister(): void;
}

const OPERATOR = 'registerQueueMetrics';
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED_LABELS = ['reason', 'quantile'];
/**
 * The quantiles exported for queue time, as the `quantile` label of `<name>_queue_time_seconds`.
 *
 * ```
 * metrics.queueTime(0.5) = 120 ms, queueTime(0.99) = 900 ms
 * scrape:  jobs_queue_time_seconds{quantile="0.5"} 0.12 / {quantile="0.99"} 0.9 / ...
 * ```
 *
 * ## Example
 * ```ts
 * import { QUEUE_TIME_QUANTILES } from 'rxjs-backpressure/prometheus';
 *
 * // one dashboard panel per exported quantile
 * const panels = QUEUE_TIME_QUANTILES.map((q) => `jobs_queue_time_seconds{quantile="${q}"}`);
 * ```
 */
export const QUEUE_TIME_QUANTILES: readonly number[] = [0.5, 0.9, 0.99, 0.999];

/**
 * Registers a {@link QueueMetrics} with a prom-client registry; every value is read from the metrics at scrape time.
 *
 * Adds, for `name` = `orders_queue`:
 * - `orders_queue_depth`, `orders_queue_capacity` (gauges)
 * - `orders_queue_enqueued_total`, `orders_queue_dequeued_total` (counters)
 * - `orders_queue_dropped_total{reason}` (counter, one series per drop reason, zeros included)
 * - `orders_queue_queue_time_seconds{quantile="0.5"|"0.9"|"0.99"|"0.999"}` (a gauge with a `quantile` label, like a
 *   Summary's quantiles, from the fixed-memory histogram: 2% relative error, in seconds as Prometheus prefers)
 *
 * Several queues may share a `name` in one registry when they have the same label names with different values
 * (`{ queue: 'orders' }`, `{ queue: 'payments' }`): one metric family, a series per queue, as Prometheus prefers.
 * The same name with other label names, or the same labels twice, throws. `unregister()` removes that queue's
 * series, and the metrics themselves with the last one.
 *
 * Nothing runs between scrapes: no timer, no hook in the queue's hot path. prom-client is an optional peer dependency,
 * needed only for this entry point.
 *
 * ```
 * metrics:  depth 3, capacity 10, enqueued 120, dequeued 110, dropped 7 (overflow 7)
 * registerQueueMetrics(metrics, { name: 'jobs' })
 * scrape:   jobs_depth 3 / jobs_capacity 10 / jobs_enqueued_total 120 / jobs_dequeued_total 110
 *           jobs_dropped_total{reason="overflow"} 7 / jobs_queue_time_seconds{quantile="0.99"} 0.25 ...
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
 * @param options `name` (required), `registry`, `labels`
 * @returns the names added and `unregister()`
 * @see {@link QueueMetrics}
 */
export function registerQueueMetrics(
  metrics: QueueMetrics,
  options: RegisterQueueMetricsOptions,
): QueueMetricsRegistration {
  if (!readsLikeQueueMetrics(metrics)) fail(OPERATOR, 'metrics', 'a QueueMetrics', metrics, 'type');
  checkOptions(OPERATOR, options, ['name', 'registry', 'labels']);
  const prefix = metricName(options.name);
  const registry = options.registry ?? defaultRegistry;
  if (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function') {
    fail(OPERATOR, 'registry', 'a prom-client Registry', registry, 'type');
  }
  const labels = constantLabels(options.labels);
  const labelNames = Object.keys(labels).sort();
  const key = JSON.stringify(labelNames.map((label) => labels[label]));
  let families = familiesOf.get(registry);
  if (families === undefined) familiesOf.set(registry, (families = new Map()));
  let family = families.get(prefix);
  // registry.clear() or removeSingleMetric() may have taken the family's metrics away: then it is gone
  if (family !== undefined && registry.getSingleMetric(family.names[0]!) !== family.depth) family = undefined;
  if (family === undefined) {
    family = createFamily(registry, prefix, labelNames);
    families.set(prefix, family);
  } else if (family.labelNames.join() !== labelNames.join()) {
    throw new Error(
      `${OPERATOR}: ${prefix}_* is already registered with the labels [${family.labelNames.join(', ')}]; ` +
        `a queue sharing its name must have the same label names with other values, got [${labelNames.join(', ')}]`,
    );
  } else if (family.members.has(key)) {
    throw new Error(`${OPERATOR}: ${prefix}_* is already registered with the labels ${JSON.stringify(labels)}`);
  }
  const { members, names } = family;
  members.set(key, { labels, metrics });

  let registered = true;
  return {
    names,
    unregister() {
      if (!registered) return;
      registered = false;
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
  /** The depth gauge, to tell whether the registry still holds this family. */
  depth?: Gauge;
  /** By the JSON of their label values, in label-name order. */
  readonly members: Map<string, { labels: Record<string, string>; metrics: QueueMetrics }>;
}

/** Per registry, the families registered in it by name. */
const familiesOf = new WeakMap<Registry, Map<string, Family>>();

function createFamily(registry: Registry, prefix: string, labelNames: readonly string[]): Family {
  const names = [
    `${prefix}_depth`,
    `${prefix}_capacity`,
    `${prefix}_enqueued_total`,
    `${prefix}_dequeued_total`,
    `${prefix}_dropped_total`,
    `${prefix}_queue_time_seconds`,
  ] as const;
  for (const name of names) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new Error(`${OPERATOR}: a metric named ${name} is already registered`);
    }
  }
  const family: Family = { labelNames, names, members: new Map() };
  const { members } = family;
  const [depth, capacity, enqueued, dequeued, dropped, queueTime] = names;
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
  new Gauge({
    name: queueTime,
    help: 'Time values waited in the queue, in seconds, at each quantile (2% relative error).',
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

function metricName(value: unknown): string {
  if (typeof value !== 'string') fail(OPERATOR, 'name', 'a Prometheus metric name', value, 'type');
  if (!METRIC_NAME.test(value)) {
    fail(OPERATOR, 'name', 'a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)', value, 'range');
  }
  return value;
}

function constantLabels(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(OPERATOR, 'labels', 'an object of label names to strings', value, 'type');
  }
  const labels: Record<string, string> = {};
  for (const [name, label] of Object.entries(value)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__') || RESERVED_LABELS.includes(name)) {
      fail(
        OPERATOR,
        'labels',
        'keyed by Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*, not __*, reason or quantile)',
        name,
        'range',
      );
    }
    if (typeof label !== 'string') fail(OPERATOR, `labels.${name}`, 'a string', label, 'type');
    labels[name] = label;
  }
  return labels;
}

/**
 * A {@link QueueMetrics} by what the collectors read, so one from another copy of the package (the ESM and the
 * CommonJS build, two installs) is accepted too.
 */
function readsLikeQueueMetrics(value: unknown): value is QueueMetrics {
  // By its versioned recording port, so a QueueMetrics from another copy of the package is accepted too.
  return recorderOf(value) !== undefined;
}
