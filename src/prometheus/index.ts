/**
 * `rxjs-backpressure/prometheus`: queues, circuit breakers and concurrency limiters as prom-client metrics, read at
 * scrape time. prom-client is an optional peer dependency, imported only by this entry.
 *
 * @module
 */
export { QUEUE_TIME_BUCKETS, QUEUE_TIME_QUANTILES, registerQueueMetrics } from './queue.js';
export type { QueueMetricsRegistration, RegisterQueueMetricsOptions } from './queue.js';
export { registerCircuitBreaker } from './breaker.js';
export type { CircuitBreakerRegistration, RegisterCircuitBreakerOptions } from './breaker.js';
export { registerConcurrencyLimiter } from './limiter.js';
export type { ConcurrencyLimiterRegistration, RegisterConcurrencyLimiterOptions } from './limiter.js';
