/**
 * Two copies of the package in one program (an ESM and a CommonJS build, or two installs in node_modules): objects made
 * by one copy must work with the functions of the other. The second copy here is the same source loaded again after
 * `vi.resetModules()`, so its classes are distinct (instanceof across copies is false) exactly as in a real install.
 */
import { Registry } from 'prom-client';
import { Subject, of, throwError } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';

async function twoCopies() {
  const first = await import('../../src/index.js');
  const firstPrometheus = await import('../../src/prometheus/index.js');
  vi.resetModules();
  const second = await import('../../src/index.js');
  expect(second.CircuitBreaker).not.toBe(first.CircuitBreaker);
  return { first, firstPrometheus, second };
}

describe('two copies of the package', () => {
  it('circuitBreak shares a CircuitBreaker made by the other copy (not mistaken for options)', async () => {
    const { first, second } = await twoCopies();
    const breaker = new second.CircuitBreaker({ failureThreshold: 2 });
    const guard = first.circuitBreak<number>(breaker);
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++)
      throwError(() => new Error('down'))
        .pipe(guard)
        .subscribe({ error: (e) => errors.push(e) });
    // the breaker itself counted the two failures and opened: the third call was refused by it
    expect(breaker.state).toBe('open');
    expect(errors).toHaveLength(3);
    expect(second.isCircuitOpenError(errors[2])).toBe(true);
    expect(first.isCircuitOpenError(errors[2])).toBe(true);
  });

  it('queue operators report to a QueueMetrics and obey a Demand of the other copy', async () => {
    const { first, second } = await twoCopies();
    const metrics = new second.QueueMetrics();
    const demand = new second.Demand();
    const source = new Subject<number>();
    const seen: number[] = [];
    source.pipe(first.dropOnFull({ capacity: 2, demand, metrics })).subscribe((v) => seen.push(v));
    [1, 2, 3].forEach((v) => source.next(v));
    demand.request(1);
    expect(seen).toEqual([1]);
    expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth]).toEqual([3, 1, 1, 1]);
  });

  it('registerQueueMetrics exports a QueueMetrics of the other copy', async () => {
    const { firstPrometheus, second } = await twoCopies();
    const metrics = new second.QueueMetrics();
    const source = new Subject<number>();
    source.pipe(second.dropOnFull({ capacity: 1, metrics })).subscribe();
    source.next(1);
    const registry = new Registry();
    firstPrometheus.registerQueueMetrics(metrics, { name: 'jobs', registry });
    const text = await registry.metrics();
    expect(text).toContain('jobs_enqueued_total 1');
    expect(() => firstPrometheus.registerQueueMetrics({ depth: 1 } as never, { name: 'x', registry })).toThrow(
      TypeError,
    );
  });

  it('registerCircuitBreaker exports a CircuitBreaker of the other copy (found by its versioned port)', async () => {
    const { firstPrometheus, second } = await twoCopies();
    const breaker = new second.CircuitBreaker({ failureThreshold: 1 });
    throwError(() => new Error('down'))
      .pipe(second.circuitBreak(breaker))
      .subscribe({ error: () => undefined });
    const registry = new Registry();
    firstPrometheus.registerCircuitBreaker(breaker, { name: 'payments', registry });
    const text = await registry.metrics();
    expect(text).toContain('payments_state{state="open"} 1');
    expect(text).toContain('payments_calls_total{outcome="failure"} 1');
  });

  it('drain runs under an adaptiveConcurrency limiter of the other copy, and retryAfter spends its retryBudget', async () => {
    const { first, second } = await twoCopies();
    const limiter = second.adaptiveConcurrency({ initial: 2 });
    const running: number[] = [];
    let now = 0;
    const seen: number[] = [];
    first
      .pull([1, 2, 3, 4, 5])
      .pipe(
        first.drain(
          (v: number) =>
            new Promise<number>((resolve) => {
              running.push(++now);
              setTimeout(() => {
                now--;
                resolve(v);
              }, 1);
            }),
          { concurrency: limiter },
        ),
      )
      .subscribe((v) => seen.push(v));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(Math.max(...running)).toBeLessThanOrEqual(2);
    const budget = second.retryBudget({ ratio: 0, minPerSecond: 1 });
    const errors: unknown[] = [];
    of({ status: 503, headers: new Headers() })
      .pipe(first.retryAfter({ maxAttempts: 5, defaultDelay: 0, jitter: 0, budget }))
      .subscribe({ error: (e) => errors.push(e) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(budget.balance).toBe(0); // the one retry of the second it allows was spent by the other copy's retryAfter
    expect(second.isRateLimitExceededError(errors[0])).toBe(true);
  });
});
