import { register as defaultRegistry } from 'prom-client';
import type { Metric, Registry } from 'prom-client';
import { checkOptions } from '../internal/options.js';
import { constantLabels, metricName, promRegistry } from './checks.js';

/** The options every `register*` function of the resilience wing takes. */
export interface RegisterOptions {
  /** Prefix of every metric name, e.g. `'payments_breaker'` (Prometheus rules: `[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string;
  /** The prom-client registry to add the metrics to. Default prom-client's global `register`. */
  registry?: Registry | undefined;
  /** Constant labels on every series, e.g. `{ service: 'checkout' }` (not the labels the metrics use themselves). */
  labels?: Record<string, string> | undefined;
}

/** What a `register*` function added, and how to take it away again. */
export interface Registration {
  /** The metric names this object is exported under. */
  readonly names: readonly string[];
  /** Removes this object's series; with the last object of the name, the metrics themselves. */
  unregister(): void;
}

/** One registered object and its constant labels. */
export interface Member<S> {
  readonly labels: Record<string, string>;
  readonly source: S;
}

/** How one kind of object is exported: its metric names and a factory of the metrics (read at scrape time). */
export interface FamilyKind<S> {
  readonly operator: string;
  /** Labels the metrics use themselves, not allowed as constant labels. */
  readonly reserved: readonly string[];
  /** What the object must be; returns it (recognised by its port, so copies of the package pass). */
  check(value: unknown): S;
  suffixes: readonly string[];
  /** Creates the metrics in `registry` (with these label names) reading `members` at each scrape; returns them. */
  create(registry: Registry, names: readonly string[], labelNames: string[], members: Map<string, Member<S>>): Metric[];
}

interface Family<S> {
  readonly labelNames: readonly string[];
  readonly names: readonly string[];
  readonly first: Metric;
  readonly members: Map<string, Member<S>>;
}

/** Per registry and kind, the families registered by prefix. */
const familiesOf = new WeakMap<Registry, Map<string, Family<never>>>();

/**
 * Registers `value` under `options.name`: objects sharing a name in one registry with the same label names and other
 * label values are one metric family, a series each (the same rules as `registerQueueMetrics`).
 */
export function registerMember<S>(kind: FamilyKind<S>, value: unknown, options: RegisterOptions): Registration {
  const { operator } = kind;
  const source = kind.check(value);
  checkOptions(operator, options, ['name', 'registry', 'labels']);
  const prefix = metricName(operator, 'name', options.name);
  const registry =
    options.registry === undefined ? defaultRegistry : promRegistry(operator, 'registry', options.registry);
  const labels = constantLabels(kind.reserved)(operator, 'labels', options.labels);
  const labelNames = Object.keys(labels).sort();
  const key = JSON.stringify(labelNames.map((label) => labels[label]));
  let families = familiesOf.get(registry);
  if (families === undefined) familiesOf.set(registry, (families = new Map()));
  const id = `${operator}:${prefix}`;
  let family = families.get(id) as Family<S> | undefined;
  // registry.clear() or removeSingleMetric() may have taken the family's metrics away: then it is gone
  if (family !== undefined && registry.getSingleMetric(family.names[0]!) !== family.first) family = undefined;
  if (family === undefined) {
    const names = kind.suffixes.map((suffix) => `${prefix}_${suffix}`);
    for (const name of names) {
      if (registry.getSingleMetric(name) !== undefined) {
        throw new Error(`${operator}: a metric named ${name} is already registered`);
      }
    }
    const members = new Map<string, Member<S>>();
    const metrics = kind.create(registry, names, labelNames, members);
    family = { labelNames, names, first: metrics[0]!, members };
    families.set(id, family as Family<never>);
  } else if (family.labelNames.join() !== labelNames.join()) {
    throw new Error(
      `${operator}: ${prefix}_* is already registered with the labels [${family.labelNames.join(', ')}]; ` +
        `another object sharing its name must have the same label names, got [${labelNames.join(', ')}]`,
    );
  } else if (family.members.has(key)) {
    throw new Error(`${operator}: ${prefix}_* is already registered with the labels ${JSON.stringify(labels)}`);
  }
  const registered = family;
  registered.members.set(key, { labels, source });
  let live = true;
  return {
    names: registered.names,
    unregister() {
      if (!live) return;
      live = false;
      registered.members.delete(key);
      if (registered.members.size > 0 || families.get(id) !== registered) return;
      families.delete(id);
      if (registry.getSingleMetric(registered.names[0]!) !== registered.first) return;
      for (const name of registered.names) registry.removeSingleMetric(name);
    },
  };
}
