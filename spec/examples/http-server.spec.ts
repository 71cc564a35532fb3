/**
 * The HTTP example under real load, on loopback: autocannon at 10x the server's capacity against the server built on
 * BoundedSubject + drain and against the naive one (a Subject nobody bounds), a short and a twice as long run each.
 *
 * Capacity: 2 workers x 100 ms jobs = 20 requests/s; the queue holds 10. The load: 200 requests/s from 100
 * connections: 2.5% health, 2.5% paid, 90% batch and 5% batch jobs whose handler throws (`fail=1`).
 *
 * What is asserted is counted, never timed: every request answered exactly once (200, 503 with Retry-After, or 500 for
 * a failing job), the queue never above its capacity, the naive queue past any bound. Latencies, Retry-After values
 * and memory are printed.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../examples/http-server/index.js';
import type { HttpServer, HttpServerOptions } from '../../examples/http-server/index.js';
import { overload } from '../../examples/http-server/load.js';
import type { LoadRequest, LoadResult } from '../../examples/http-server/load.js';

const WORKERS = 2;
const WORK_MS = 100;
const CAPACITY = 10;
const THROUGHPUT = (WORKERS * 1000) / WORK_MS; // requests per second
const RATE = 10 * THROUGHPUT;
const CONNECTIONS = 100;
const MIX: readonly LoadRequest[] = [
  { path: '/health', tier: 'health', weight: 1 },
  { path: `/job?ms=${WORK_MS}`, tier: 'paid', weight: 1 },
  { path: `/job?ms=${WORK_MS}`, tier: 'batch', weight: 36 },
  { path: `/job?ms=${WORK_MS}&fail=1`, tier: 'batch', weight: 2 },
];
const MB = 1024 * 1024;

interface Run {
  variant: 'backpressure' | 'naive';
  seconds: number;
  load: LoadResult;
  server: HttpServer;
  rssStartMB: number;
  rssPeakMB: number;
}

/** Starts a fresh server, loads it for `seconds`, and samples RSS meanwhile. */
async function measure(variant: Run['variant'], seconds: number): Promise<Run> {
  const options: HttpServerOptions = { port: 0, capacity: CAPACITY, workers: WORKERS, naive: variant === 'naive' };
  const server = await startServer(options);
  servers.push(server);
  const rssStart = process.memoryUsage().rss;
  let rssPeak = rssStart;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
  try {
    const load = await overload({
      url: server.url,
      rate: RATE,
      connections: CONNECTIONS,
      seconds,
      // the naive server never catches up, so it can only be loaded for a duration and then hung up on
      until: variant === 'naive' ? 'duration' : 'amount',
      mix: MIX,
    });
    return { variant, seconds, load, server, rssStartMB: rssStart / MB, rssPeakMB: rssPeak / MB };
  } finally {
    clearInterval(sampler);
  }
}

const servers: HttpServer[] = [];
const runs: Run[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

afterAll(() => {
  if (runs.length === 0) return;
  console.table(
    runs.map(({ variant, seconds, load, server, rssStartMB, rssPeakMB }) => ({
      variant,
      'load s': seconds,
      'wall s': +(load.elapsedMs / 1000).toFixed(2),
      requests: server.stats.received,
      'ok 200': load.statuses['200'] ?? 0,
      'busy 503': load.statuses['503'] ?? 0,
      'failed 500': load.statuses['500'] ?? 0,
      other: load.responses - ['200', '503', '500'].reduce((sum, s) => sum + (load.statuses[s] ?? 0), 0),
      'errors+timeouts': load.errors + load.timeouts,
      'open at end': server.stats.open,
      'given up': server.stats.abandoned,
      'queue peak': variant === 'naive' ? server.stats.peakWaiting : server.stats.peakDepth,
      'paid+health 503': server.stats.byTier.paid.shed + server.stats.byTier.health.shed,
      'max Retry-After s': load.maxRetryAfter,
      'p99 ms (200s)': server.stats.latency.percentile(0.99),
      'RSS MB start/peak': `${rssStartMB.toFixed(0)}/${rssPeakMB.toFixed(0)}`,
    })),
  );
  console.log(
    `capacity ${THROUGHPUT} req/s (${WORKERS} workers x ${WORK_MS} ms), queue ${CAPACITY}, load ${RATE} req/s ` +
      `from ${CONNECTIONS} connections, 5% of them failing jobs`,
  );
});

describe('examples/http-server under 10x overload (autocannon on loopback)', () => {
  it('BoundedSubject + drain: every request answered exactly once (200, 503 + Retry-After, 500), a bounded queue', async () => {
    const short = await measure('backpressure', 1);
    const long = await measure('backpressure', 2);
    runs.push(short, long);
    for (const { load, server } of [short, long]) {
      const { stats } = server;
      const ok = load.statuses['200'] ?? 0;
      const unavailable = load.statuses['503'] ?? 0;
      const failed = load.statuses['500'] ?? 0;
      // every request was answered, with 200, 503 + Retry-After or 500, and nothing failed on the way
      expect(load.errors).toBe(0);
      expect(load.timeouts).toBe(0);
      expect(load.responses).toBe(ok + unavailable + failed);
      expect(load.badRetryAfter).toBe(0);
      expect(load.maxRetryAfter).toBeGreaterThanOrEqual(1); // the client-side header check did run
      // the server saw the same, once each: what it received it answered exactly once
      expect(stats.received).toBe(load.responses);
      expect(stats.ok).toBe(ok);
      expect(stats.failed).toBe(failed);
      expect(stats.rejected + stats.shed + stats.closed).toBe(unavailable);
      expect(stats.received).toBe(stats.ok + stats.failed + stats.rejected + stats.shed + stats.closed);
      expect(stats.abandoned).toBe(0);
      expect(stats.open).toBe(0);
      // handler errors cost one 500 each, and the server went on (nothing was ever 'closed')
      expect(failed).toBeGreaterThan(0);
      expect(stats.closed).toBe(0);
      expect(server.died).toBeUndefined();
      // the queue never held more than its bound, and it was really overloaded
      expect(stats.peakDepth).toBeLessThanOrEqual(CAPACITY);
      expect(stats.peakWaiting).toBeLessThanOrEqual(CAPACITY);
      expect(stats.peakDepth).toBeGreaterThanOrEqual(Math.ceil(0.8 * CAPACITY));
      expect(unavailable).toBeGreaterThan(ok);
      // the door: batch is turned away at 80% full, the headroom above it is for paid and health
      expect(stats.byTier.batch.rejected).toBeGreaterThan(0);
      expect(stats.byTier.paid.rejected + stats.byTier.health.rejected).toBe(0);
      // the metrics balance: what the queue received is out, dropped, or (none) still queued
      expect(server.metrics.enqueued).toBe(server.metrics.dequeued + server.metrics.dropped + server.metrics.depth);
    }
    // memory: the second, twice as long run peaks no more than a few MB above the first
    expect(long.rssPeakMB - short.rssPeakMB).toBeLessThan(32);
  }, 30_000);

  it('naive (a Subject nobody bounds): it never says no, so every client ends up waiting in its queue', async () => {
    const short = await measure('naive', 1);
    const long = await measure('naive', 2);
    runs.push(short, long);
    for (const { load, server } of [short, long]) {
      expect(load.statuses['503'] ?? 0).toBe(0); // it never says no...
      expect(server.stats.peakWaiting).toBeGreaterThan(CAPACITY); // ...so its queue grows past any bound
      expect(server.stats.abandoned).toBeGreaterThan(0); // and requests still queued when the load stopped, given up
      // its queue is bounded only by the number of clients: nearly every connection's request waited in it (the wait,
      // and so the latency, grows with the run: see the p99 column)
      expect(server.stats.peakWaiting).toBeGreaterThanOrEqual(CONNECTIONS / 2);
    }
  }, 30_000);
});

describe('examples/http-server, one request at a time', () => {
  const get = (server: HttpServer, path: string, tier?: string, signal?: AbortSignal): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      ...(tier === undefined ? {} : { headers: { 'x-priority': tier } }),
      ...(signal === undefined ? {} : { signal }),
    });
  const until = async (condition: () => boolean): Promise<void> => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it("turns batch away at 80% full, admits paid into the headroom, and answers 503 when offer() says 'dropped'", async () => {
    const server = await startServer({ port: 0, capacity: 5, workers: 1 });
    servers.push(server);
    const { stats } = server;
    const finished: string[] = [];
    const send = (name: string, path: string, tier: string): Promise<Response> =>
      get(server, path, tier).then((response) => {
        finished.push(`${name} ${response.status}`);
        return response;
      });
    const running = send('b1', '/job?ms=300', 'batch'); // 'delivered': the worker takes it
    await until(() => stats.received === 1);
    const queued = ['b2', 'b3', 'b4', 'b5'].map((name) => send(name, '/job?ms=1', 'batch'));
    await until(() => stats.received === 5);
    expect(stats.waiting).toBe(4);
    const b6 = await send('b6', '/job?ms=1', 'batch'); // 4 of 5 queued is 80%: batch is turned away at the door
    expect(b6.status).toBe(503);
    expect(b6.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    const p1 = send('p1', '/job?ms=1', 'paid'); // paid may use the headroom: queued, the queue is full
    await until(() => stats.received === 7);
    const h1 = await send('h1', '/health', 'health'); // full: offer() answers 'dropped'
    expect(h1.status).toBe(503);
    expect(h1.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect((await running).status).toBe(200);
    expect((await Promise.all(queued)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await p1).status).toBe(200);
    expect(finished).toEqual(['b6 503', 'h1 503', 'b1 200', 'b2 200', 'b3 200', 'b4 200', 'b5 200', 'p1 200']);
    expect(stats).toMatchObject({ received: 8, accepted: 6, ok: 6, rejected: 1, shed: 1, open: 0, peakDepth: 5 });
  });

  it('a job whose handler throws costs one 500; the worker goes on with the next job', async () => {
    const server = await startServer({ port: 0, capacity: 4, workers: 1 });
    servers.push(server);
    const failing = get(server, '/job?ms=20&fail=1');
    const next = get(server, '/job?ms=1');
    const failed = await failing;
    expect(failed.status).toBe(500);
    expect(await failed.text()).toMatch(/job failed: the handler threw/);
    expect((await next).status).toBe(200);
    expect((await get(server, '/job?ms=1')).status).toBe(200);
    expect(server.stats).toMatchObject({ ok: 2, failed: 1, open: 0 });
    expect(server.died).toBeUndefined();
  });

  it('a pipeline that has died answers every request, 500 or 503, never silence', async () => {
    const server = await startServer({ port: 0, capacity: 4, workers: 2 });
    servers.push(server);
    const { stats } = server;
    const crashing = get(server, '/job?ms=100&crash=1'); // its answer hits a bug after the workers: the pipeline dies
    const running = get(server, '/job?ms=2000'); // running beside it when it dies
    await until(() => stats.received === 2);
    const queued = get(server, '/job?ms=1'); // waiting in the queue when it dies
    await until(() => stats.received === 3);
    expect(stats.waiting).toBe(1);
    expect((await crashing).status).toBe(500);
    expect((await running).status).toBe(503); // reported 'cancelled' by the drain
    expect((await queued).status).toBe(503); // reported 'cancelled' by the BoundedSubject
    expect(server.died).toBeInstanceOf(TypeError); // JSON.stringify of a BigInt
    const later = await get(server, '/job?ms=1'); // offer() answers 'closed'
    expect(later.status).toBe(503);
    expect(await later.text()).toMatch(/the pipeline is down/);
    expect(stats).toMatchObject({ received: 4, failed: 1, shed: 2, closed: 1, open: 0, ok: 0 });
  });

  it('skips the work of a client that hung up while queued', async () => {
    const server = await startServer({ port: 0, capacity: 4, workers: 1 });
    servers.push(server);
    const { stats } = server;
    const running = get(server, '/job?ms=200', 'paid');
    await until(() => stats.received === 1);
    const hangUp = new AbortController();
    const queued = get(server, '/job?ms=5000', 'paid', hangUp.signal);
    await until(() => stats.waiting === 1);
    hangUp.abort();
    await expect(queued).rejects.toThrow();
    await until(() => stats.abandoned === 1);
    expect((await running).status).toBe(200);
    await until(() => stats.skipped === 1); // the worker reached it and did not run its 5 s of work
    const next = await get(server, '/job?ms=1', 'paid'); // so the worker is free at once
    expect(next.status).toBe(200);
    expect(stats).toMatchObject({ accepted: 3, ok: 2, abandoned: 1, skipped: 1, open: 0, waiting: 0 });
  });

  it('serves the queue metrics at /metrics in the Prometheus text format, and 404 elsewhere', async () => {
    const server = await startServer({ port: 0, capacity: 7, workers: 1 });
    servers.push(server);
    expect((await get(server, '/job?ms=1')).status).toBe(200);
    const response = await get(server, '/metrics');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^http_jobs_capacity 7$/m);
    expect(text).toMatch(/^http_jobs_enqueued_total 1$/m);
    expect((await get(server, '/nope')).status).toBe(404);
    expect((await get(server, '/job?ms=-1')).status).toBe(400);
  });

  it('naive mode accepts everything and answers 200', async () => {
    const server = await startServer({ port: 0, capacity: 1, workers: 1, naive: true });
    servers.push(server);
    const answers = await Promise.all(Array.from({ length: 5 }, () => get(server, '/job?ms=200', 'batch')));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(server.stats.peakWaiting).toBeGreaterThan(1); // past the capacity it was given: it has none
  });
});
