/**
 * The HTTP example under real load, on loopback: autocannon at 10x the server's capacity against the server with
 * backpressure and against the naive one (unbounded queue), a short and a twice as long run each.
 *
 * Capacity: 2 workers x 100 ms jobs = 20 requests/s; the queue holds 10, so an accepted request waits at most about
 * capacity / throughput = 0.5 s, plus its own 0.1 s of work (a little more for batch, which paid traffic overtakes:
 * LATENCY_BOUND_MS). p99 may reach twice that bound and must not grow with the run.
 * The load: 200 requests/s from 100 connections, 2.5% health, 2.5% paid, 95% batch.
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
  { path: `/job?ms=${WORK_MS}`, tier: 'batch', weight: 38 },
];
const PAID_RATE = RATE / 40;
/**
 * The longest an accepted request should take: a full queue ahead of it, drained at the throughput left over by the
 * paid traffic that overtakes it, then its own work. (Health checks do no work.)
 */
const LATENCY_BOUND_MS = (CAPACITY / (THROUGHPUT - PAID_RATE)) * 1000 + WORK_MS;
const MB = 1024 * 1024;

interface Run {
  variant: 'backpressure' | 'naive';
  seconds: number;
  load: LoadResult;
  server: HttpServer;
  p99: number;
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
    return {
      variant,
      seconds,
      load,
      server,
      p99: server.stats.latency.percentile(0.99),
      rssStartMB: rssStart / MB,
      rssPeakMB: rssPeak / MB,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** What a server with backpressure promises under overload; the names of the promises a run breaks. */
function broken(short: Run, long: Run): string[] {
  const failures: string[] = [];
  for (const run of [short, long]) {
    const { stats } = run.server;
    if (stats.peakWaiting > CAPACITY) failures.push(`${run.seconds} s: ${stats.peakWaiting} waiting > ${CAPACITY}`);
    if (run.p99 > 2 * LATENCY_BOUND_MS) failures.push(`${run.seconds} s: p99 ${run.p99} ms > 2 x bound`);
  }
  if (long.p99 > 1.5 * short.p99 + 100) failures.push(`p99 grew with the run: ${short.p99} -> ${long.p99} ms`);
  return failures;
}

const servers: HttpServer[] = [];
const runs: Run[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

afterAll(() => {
  if (runs.length === 0) return;
  console.table(
    runs.map(({ variant, seconds, load, server, p99, rssStartMB, rssPeakMB }) => ({
      variant,
      'load s': seconds,
      'wall s': +(load.elapsedMs / 1000).toFixed(2),
      received: server.stats.received,
      'ok 200': load.statuses['200'] ?? 0,
      'busy 503': load.statuses['503'] ?? 0,
      other: load.responses - (load.statuses['200'] ?? 0) - (load.statuses['503'] ?? 0),
      'errors+timeouts': load.errors + load.timeouts,
      'open at end': server.stats.open,
      'given up': server.stats.abandoned,
      'peak waiting': server.stats.peakWaiting,
      'p99 ms (200s)': p99,
      'max ms': server.stats.latency.max,
      'RSS MB start/peak': `${rssStartMB.toFixed(0)}/${rssPeakMB.toFixed(0)}`,
    })),
  );
  console.log(
    `capacity ${THROUGHPUT} req/s (${WORKERS} workers x ${WORK_MS} ms), queue ${CAPACITY}, load ${RATE} req/s ` +
      `from ${CONNECTIONS} connections; bound for accepted requests ~${LATENCY_BOUND_MS.toFixed(0)} ms`,
  );
});

describe('examples/http-server under 10x overload (autocannon on loopback)', () => {
  it('with backpressure: one answer per request (200, or 503 + Retry-After), a bounded queue, a flat p99', async () => {
    const short = await measure('backpressure', 1);
    const long = await measure('backpressure', 2);
    runs.push(short, long);
    for (const { load, server } of [short, long]) {
      const { stats } = server;
      const ok = load.statuses['200'] ?? 0;
      const unavailable = load.statuses['503'] ?? 0;
      // every request was answered exactly once, with 200 or 503 + Retry-After, and nothing failed on the way
      expect(load.errors).toBe(0);
      expect(load.timeouts).toBe(0);
      expect(load.responses).toBe(ok + unavailable);
      expect(load.badRetryAfter).toBe(0);
      expect(unavailable).toBeGreaterThan(0);
      expect(load.maxRetryAfter).toBeGreaterThanOrEqual(1); // the client-side header check did run
      expect(load.maxRetryAfter).toBeLessThanOrEqual(Math.ceil(CAPACITY / THROUGHPUT) + 1);
      // the server saw the same: accepted requests all completed (none lost, none still open)
      expect(stats.received).toBe(load.responses);
      expect(stats.ok).toBe(ok);
      expect(stats.rejected + stats.shed).toBe(unavailable);
      expect(stats.accepted).toBe(stats.ok + stats.shed + stats.abandoned);
      expect(stats.abandoned).toBe(0);
      expect(stats.open).toBe(0);
      // the queue never held more than its bound (QueueMetrics depth, and waiting requests)
      expect(stats.peakDepth).toBeLessThanOrEqual(CAPACITY);
      expect(stats.peakWaiting).toBeLessThanOrEqual(CAPACITY);
      expect(stats.peakDepth).toBeGreaterThanOrEqual(Math.ceil(0.8 * CAPACITY)); // it was really overloaded
      // the server did the work it could: at least half its capacity over the run
      expect(stats.ok).toBeGreaterThanOrEqual((THROUGHPUT * load.elapsedMs) / 1000 / 2);
      // priorities: health and paid traffic were never turned away while batch was shed
      expect(stats.byTier.health.rejected + stats.byTier.health.shed).toBe(0);
      expect(stats.byTier.paid.rejected + stats.byTier.paid.shed).toBe(0);
      expect(stats.byTier.batch.rejected).toBeGreaterThan(0);
    }
    // p99 of accepted requests stays near queue size / throughput and does not grow with the length of the run
    expect(broken(short, long)).toEqual([]);
    expect(long.server.metrics.dequeued).toBe(long.server.metrics.enqueued - long.server.metrics.dropped);
    // memory: the second, twice as long run peaks no more than a few MB above the first
    expect(long.rssPeakMB - short.rssPeakMB).toBeLessThan(32);
  }, 20_000);

  it('without backpressure (naive, unbounded queue): the same checks fail, p99 grows with the run', async () => {
    const short = await measure('naive', 1);
    const long = await measure('naive', 2);
    runs.push(short, long);
    for (const { load, server } of [short, long]) {
      expect(load.statuses['503'] ?? 0).toBe(0); // it never says no...
      expect(server.stats.peakWaiting).toBeGreaterThan(CAPACITY); // ...so its queue grows past any bound
      expect(server.stats.abandoned).toBeGreaterThan(0); // and requests still queued when the load stopped, given up
    }
    expect(long.p99).toBeGreaterThan(1.5 * short.p99);
    const failures = broken(short, long);
    expect(failures.some((failure) => failure.startsWith('p99 grew'))).toBe(true);
    expect(failures.some((failure) => failure.includes('waiting >'))).toBe(true);
  }, 20_000);
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

  it('turns batch away at 80% full, lets paid and health evict queued batch, and serves by priority', async () => {
    const server = await startServer({ port: 0, capacity: 2, workers: 1 });
    servers.push(server);
    const { stats } = server;
    const finished: string[] = [];
    const send = (name: string, path: string, tier: string): Promise<Response> =>
      get(server, path, tier).then((response) => {
        finished.push(`${name} ${response.status}`);
        return response;
      });
    const running = send('b1', '/job?ms=300', 'batch');
    await until(() => stats.received === 1);
    const b2 = send('b2', '/job?ms=10', 'batch');
    const b3 = send('b3', '/job?ms=10', 'batch');
    await until(() => stats.received === 3);
    expect(stats.waiting).toBe(2);
    const b4 = await send('b4', '/job?ms=10', 'batch'); // queue at 2 of 2 >= 80%: turned away at the door
    expect(b4.status).toBe(503);
    expect(Number(b4.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const paid = send('p1', '/job?ms=10', 'paid'); // full: evicts the oldest batch (b2)
    await until(() => stats.received === 5);
    const health = send('h1', '/health', 'health'); // evicts b3
    const evicted = await b2;
    expect(evicted.status).toBe(503);
    expect(Number(evicted.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await b3).status).toBe(503);
    expect((await running).status).toBe(200);
    expect((await health).status).toBe(200);
    expect((await paid).status).toBe(200);
    expect(finished).toEqual(['b4 503', 'b2 503', 'b3 503', 'b1 200', 'h1 200', 'p1 200']);
    expect(stats).toMatchObject({ received: 6, accepted: 5, ok: 3, rejected: 1, shed: 2, open: 0, peakDepth: 2 });
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
