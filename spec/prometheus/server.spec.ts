import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../examples/metrics-server/index.js';
import type { MetricsServer } from '../../examples/metrics-server/index.js';
import { DROP_REASONS } from '../../src/types.js';
import { parseExposition } from './exposition.js';
import type { Exposition } from './exposition.js';

describe('examples/metrics-server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function scrape(url: string): Promise<{ status: number; type: string | null; exposition: Exposition }> {
    const response = await fetch(url);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      exposition: parseExposition(await response.text()),
    };
  }

  it('serves the queue metrics in the text format over loopback while the pipeline runs', async () => {
    server = await startMetricsServer({ port: 0, duration: 60_000, log: false });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const labels = { example: 'metrics' };
    // wait (without a time limit of our own) until the pipeline has moved some values
    let result = await scrape(server.url);
    for (let i = 0; i < 5000 && result.exposition.value('example_jobs_dequeued_total', labels) === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      result = await scrape(server.url);
    }
    const { status, type, exposition } = result;
    expect(status).toBe(200);
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const value = (name: string, extra: Record<string, string> = {}): number =>
      exposition.value(`example_jobs_${name}`, { ...labels, ...extra });
    expect(value('capacity')).toBe(50);
    expect(value('dequeued_total')).toBeGreaterThan(0);
    // one scrape reads every collect() in the same tick, so the conservation law holds between its numbers
    const dropped = DROP_REASONS.reduce((sum, reason) => sum + value('dropped_total', { reason }), 0);
    expect(value('enqueued_total')).toBe(value('dequeued_total') + dropped + value('depth'));
    expect(value('depth')).toBeLessThanOrEqual(value('capacity'));
    const quantiles = ['0.5', '0.9', '0.99', '0.999'].map((quantile) =>
      value('queue_time_quantile_seconds', { quantile }),
    );
    expect([...quantiles].sort((a, b) => a - b)).toEqual(quantiles);
    // the histogram, registered before the first value, counts every value dequeued, in the same scrape
    expect(exposition.types['example_jobs_queue_time_seconds']).toBe('histogram');
    expect(value('queue_time_seconds_count')).toBe(value('dequeued_total'));
    expect(value('queue_time_seconds_bucket', { le: '+Inf' })).toBe(value('dequeued_total'));
    expect(exposition.types['example_jobs_dropped_total']).toBe('counter');
  });

  it('answers 404 off /metrics and stops serving when closed', async () => {
    server = await startMetricsServer({ port: 0, duration: 60_000, log: false });
    const { url, metrics } = server;
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    await server.close();
    await server.closed;
    expect(metrics.capacity).toBe(0); // the pipeline was unsubscribed
    await expect(fetch(url)).rejects.toThrow();
  });
});
