/**
 * The HTTP example's client against its server, on loopback: a burst of jobs larger than the server's queue. The server
 * answers the overflow 503 + Retry-After; the client's `retryAfter` waits as told and tries again, so every job ends
 * 200, and each 503 cost exactly one retry. Without it the same burst loses jobs to 503.
 */
import { lastValueFrom, mergeMap, range, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { burst, fetch$ } from '../../examples/http-server/client.js';
import type { JobOutcome } from '../../examples/http-server/client.js';
import { startServer } from '../../examples/http-server/index.js';
import type { HttpServer } from '../../examples/http-server/index.js';

const JOBS = 12;

describe('HTTP example client (retryAfter against the 503 server)', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const overloadedServer = (): Promise<HttpServer> => startServer({ port: 0, workers: 1, capacity: 2 });

  it('without retryAfter, a burst larger than the queue loses jobs to 503', async () => {
    server = await overloadedServer();
    const url = server.url;
    const statuses = await lastValueFrom(
      range(0, JOBS).pipe(
        mergeMap(() => fetch$(`${url}/job?ms=50`)),
        mergeMap(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
        toArray(),
      ),
    );
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeLessThan(JOBS);
  });

  it('with retryAfter, every job ends 200 and every 503 cost one retry after the time the server asked', async () => {
    server = await overloadedServer();
    const delays: { requested: number; delay: number }[] = [];
    const outcomes = await burst(server.url, JOBS, {
      ms: 50,
      maxAttempts: 10,
      maxDelay: 3000,
      onRetry: ({ requested, delay }) => delays.push({ requested, delay }),
    });
    expect(outcomes).toEqual(Array.from({ length: JOBS }, (): JobOutcome => ({ kind: 'answered', status: 200 })));
    const refused = server.stats.rejected + server.stats.shed;
    expect(refused).toBeGreaterThan(0);
    expect(delays).toHaveLength(refused);
    for (const { requested, delay } of delays) {
      expect(requested).toBeGreaterThanOrEqual(1000); // the server's Retry-After: whole seconds, at least 1
      expect(delay).toBeGreaterThanOrEqual(requested);
      expect(delay).toBeLessThanOrEqual(requested * 1.2);
    }
  });

  it('gives up after maxAttempts with the server last Retry-After', async () => {
    server = await overloadedServer();
    const outcomes = await burst(server.url, JOBS, { ms: 50, maxAttempts: 1 });
    const gaveUp = outcomes.filter((o) => o.kind === 'gave up');
    expect(gaveUp.length).toBe(server.stats.rejected + server.stats.shed);
    expect(gaveUp.length).toBeGreaterThan(0);
    for (const o of gaveUp) expect(o.kind === 'gave up' && o.retryAfter >= 1000).toBe(true);
  });
});
