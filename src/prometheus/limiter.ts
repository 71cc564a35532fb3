import { Gauge } from 'prom-client';
import { fail } from '../internal/options.js';
import { limiterPort } from '../limit/port.js';
import type { ConcurrencyLimiter } from '../limit/port.js';
import { registerMember } from './family.js';
import type { FamilyKind, RegisterOptions, Registration } from './family.js';

/** Options of {@link registerConcurrencyLimiter}. */
export type RegisterConcurrencyLimiterOptions = RegisterOptions;

/** What {@link registerConcurrencyLimiter} added, and how to take it away again. */
export type ConcurrencyLimiterRegistration = Registration;

const LIMITERS: FamilyKind<ConcurrencyLimiter> = {
  operator: 'registerConcurrencyLimiter',
  reserved: [],
  check(value) {
    if (limiterPort(value) === undefined) {
      fail('registerConcurrencyLimiter', 'limiter', 'a ConcurrencyLimiter', value, 'type');
    }
    return value as ConcurrencyLimiter;
  },
  suffixes: ['limit'],
  create(registry, [limit], labelNames, members) {
    return [
      new Gauge({
        name: limit!,
        help: 'The concurrency limit: projects allowed to run at once (moves with latency and drops when adaptive).',
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const { labels, source } of members.values()) this.set(labels, source.limit);
        },
      }),
    ];
  },
};

/**
 * Registers a {@link ConcurrencyLimiter} (from `adaptiveConcurrency()`) with a prom-client registry: a gauge of its
 * current limit, read at scrape time.
 *
 * Adds, for `name` = `search_concurrency`: `search_concurrency_limit` (a gauge). Several limiters may share a `name`
 * with the same label names and other values, one series each; `unregister()` removes that limiter's series (the
 * metric with the last one). A limiter from another copy of the package is accepted (recognised by its versioned
 * port). Nothing runs between scrapes.
 *
 * ```
 * limit$:  4 ... 22 ....... 11 ....... 22      (the downstream's capacity halves, then recovers)
 * registerConcurrencyLimiter(limiter, { name: 'search_concurrency' })
 * scrape:  search_concurrency_limit 22 / ... 11 / ... 22
 * ```
 *
 * ## Example
 * ```ts
 * import { adaptiveConcurrency } from 'rxjs-backpressure';
 * import { registerConcurrencyLimiter } from 'rxjs-backpressure/prometheus';
 *
 * const limiter = adaptiveConcurrency({ algorithm: 'vegas' });
 * registerConcurrencyLimiter(limiter, { name: 'concurrency', labels: { downstream: 'search' } });
 * ```
 *
 * @param limiter the limiter to expose
 * @param options `name` (required), `registry`, `labels`
 * @returns the names added and `unregister()`
 * @see {@link adaptiveConcurrency}
 */
export function registerConcurrencyLimiter(
  limiter: ConcurrencyLimiter,
  options: RegisterConcurrencyLimiterOptions,
): ConcurrencyLimiterRegistration {
  return registerMember(LIMITERS, limiter, options);
}
