import type { Registry } from 'prom-client';
import { fail } from '../internal/options.js';
import type { Check } from '../internal/options.js';

/** The option checks every `register…` of the prometheus entry shares. */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A Prometheus metric name (the prefix of every series). */
export function metricName(operator: string, option: string, value: unknown): string {
  if (typeof value !== 'string') fail(operator, option, 'a Prometheus metric name', value, 'type');
  if (!METRIC_NAME.test(value)) {
    fail(operator, option, 'a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)', value, 'range');
  }
  return value;
}

/** A prom-client Registry (by shape). */
export function promRegistry(operator: string, option: string, value: unknown): Registry {
  const registry = value as Registry | null;
  if (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function') {
    fail(operator, option, 'a prom-client Registry', value, 'type');
  }
  return registry;
}

/** Constant labels: label names to strings, none of `reserved` (the labels the metrics set themselves). */
export function constantLabels(reserved: readonly string[]): Check<Record<string, string>> {
  const taken = reserved.length < 2 ? reserved.join('') : `${reserved.slice(0, -1).join(', ')} or ${reserved.at(-1)!}`;
  return (operator, option, value) => {
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(operator, option, 'an object of label names to strings', value, 'type');
    }
    const labels: Record<string, string> = {};
    for (const [name, label] of Object.entries(value)) {
      if (!LABEL_NAME.test(name) || name.startsWith('__') || reserved.includes(name)) {
        const rule = `keyed by Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*, not __*, ${taken})`;
        fail(operator, option, rule, name, 'range');
      }
      if (typeof label !== 'string') fail(operator, `${option}.${name}`, 'a string', label, 'type');
      labels[name] = label;
    }
    return labels;
  };
}
