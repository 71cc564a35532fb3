/**
 * An HTTP server that stays responsive under overload: a bounded priority queue in front of a fixed pool of workers,
 * answering `503 Service Unavailable` with `Retry-After` instead of queueing without bound.
 *
 *   npm run example:http -- --port 3000 [--capacity 100] [--workers 8] [--naive]
 *   curl -i 'http://127.0.0.1:3000/job?ms=50' -H 'x-priority: paid'
 *   npx autocannon -c 50 -R 2000 -d 10 'http://127.0.0.1:3000/job?ms=50'
 *   curl http://127.0.0.1:3000/metrics
 *
 * Routes (GET, on 127.0.0.1 only):
 * - `/job?ms=M`: M ms of simulated work (a timer), 0 <= M <= 60000; priority from the `x-priority` header:
 *   `health` > `paid` > `batch` (missing or unknown: `batch`)
 * - `/health`: a health check with no work of its own, through the same queue at priority `health` (so it reports
 *   whether the queue moves)
 * - `/metrics`: the queue's QueueMetrics in the Prometheus text format; `/stats`: this server's counters as JSON
 *
 * Every request is answered exactly once:
 * - Admission: while the queue is at least 80% full (`shedAt`), `batch` requests get 503 at the door and never enter
 *   the queue; the last 20% is headroom for `paid` and `health`.
 * - The queue is `shedByPriority`: when it is full, an arrival evicts the oldest queued request of a lower priority, and
 *   that request gets the 503; with nothing lower queued, the arrival itself gets the 503 (onDrop, reasons `evicted` and
 *   `overflow`). On shutdown, queued requests get a 503 too (reason `cancelled`).
 * - `Retry-After` (whole seconds, at least 1) is the time the queue needs to drain: depth / throughput, the throughput
 *   estimated from the measured work time of recent requests and the number of workers.
 * - The workers are `demand.drain(work, { concurrency: workers })`: the queue hands over a request only when a worker is
 *   free, so at most `workers` requests run and at most `capacity` wait.
 * - A client that disconnects while its request is queued keeps its slot until a worker reaches it; the worker then skips
 *   it without doing the work (counted as `abandoned`), so a disconnect costs no worker time. (The queue has no
 *   remove-by-identity: removing from the middle would cost O(n) and the slot is released soon enough.) A client that
 *   disconnects while its request runs lets the work finish; the answer is not written.
 *
 * `--naive` queues without bound instead (`mergeMap(work, workers)`): every request is accepted and answered 200 in
 * the end, but under overload the wait grows for as long as the overload lasts, and so does memory.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { EMPTY, Subject, defer, map, mergeMap, timer } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import { Demand, QueueMetrics, shedByPriority } from 'rxjs-backpressure';
import type { DropReason } from 'rxjs-backpressure';
import { registerQueueMetrics } from 'rxjs-backpressure/prometheus';
import { LatencyRecorder } from './latency.js';

/** Traffic classes, most important first. */
export type Tier = 'health' | 'paid' | 'batch';

export const TIERS: readonly Tier[] = ['health', 'paid', 'batch'];
const RANK: Record<Tier, number> = { health: 2, paid: 1, batch: 0 };

export interface HttpServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. Default 3000. */
  port?: number;
  /** Most requests waiting in the queue. Default 100. */
  capacity?: number;
  /** Requests worked on at once. Default 8. */
  workers?: number;
  /** Fill ratio (0..1] at which batch requests are turned away at the door. Default 0.8. */
  shedAt?: number;
  /** Queue without bound (`mergeMap(work, workers)`) instead, for comparison. Default false. */
  naive?: boolean;
  /** Print the URL. Default false. */
  log?: boolean;
}

/** Per traffic class: requests answered 200, turned away at the door, shed from the queue. */
export interface TierStats {
  ok: number;
  rejected: number;
  shed: number;
}

/** Live counters of one server (they change as requests come and go). */
export interface HttpServerStats {
  /** Job and health requests received. */
  received: number;
  /** Requests that entered the queue (not turned away at the door). */
  accepted: number;
  /** Answered 200 after their work. */
  ok: number;
  /** Answered 503 at the door (queue at least `shedAt` full). */
  rejected: number;
  /** Answered 503 after entering the queue (evicted by a more important request, overflow, or shutdown). */
  shed: number;
  /** Client gone before its answer. */
  abandoned: number;
  /** Skipped by a worker because the client was gone (part of `abandoned`). */
  skipped: number;
  /** Requests waiting for a worker now, and the most there ever were. */
  waiting: number;
  peakWaiting: number;
  /** The most values the library's queue held (QueueMetrics depth after each arrival); 0 in naive mode. */
  peakDepth: number;
  /** Requests accepted and not yet answered, shed or abandoned. */
  open: number;
  byTier: Record<Tier, TierStats>;
  /** Arrival to 200, of accepted requests. */
  latency: LatencyRecorder;
}

export interface HttpServer {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  stats: HttpServerStats;
  /** The queue's metrics (all zero in naive mode, where there is no bounded queue). */
  metrics: QueueMetrics;
  /** Stops the pipeline (queued requests get 503) and the server; idempotent. */
  close(): Promise<void>;
}

/** Where a request is on its way through the server. */
type JobState = { kind: 'waiting' } | { kind: 'working'; since: number } | { kind: 'answered' } | { kind: 'gone' };

interface Job {
  tier: Tier;
  ms: number;
  arrived: number;
  response: ServerResponse;
  state: JobState;
}

export async function startServer(options: HttpServerOptions = {}): Promise<HttpServer> {
  const { port = 3000, capacity = 100, workers = 8, shedAt = 0.8, naive = false, log = false } = options;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer`);
  if (!(shedAt > 0 && shedAt <= 1)) throw new RangeError(`shedAt must be in (0, 1]`);
  const doorClosesAt = Math.ceil(shedAt * capacity);

  const stats: HttpServerStats = {
    received: 0,
    accepted: 0,
    ok: 0,
    rejected: 0,
    shed: 0,
    abandoned: 0,
    skipped: 0,
    waiting: 0,
    peakWaiting: 0,
    peakDepth: 0,
    open: 0,
    byTier: {
      health: { ok: 0, rejected: 0, shed: 0 },
      paid: { ok: 0, rejected: 0, shed: 0 },
      batch: { ok: 0, rejected: 0, shed: 0 },
    },
    latency: new LatencyRecorder(),
  };
  /** Mean measured work time in ms (exponentially weighted), for the throughput estimate behind Retry-After. */
  let meanWorkMs: number | undefined;

  const metrics = new QueueMetrics();
  const registry = new Registry();
  const registration = registerQueueMetrics(metrics, { name: 'http_jobs', registry });

  const retryAfterSeconds = (): number => {
    const perSecond = (workers * 1000) / Math.max(meanWorkMs ?? 1000, 1);
    const depth = naive ? stats.waiting : metrics.depth;
    return Math.max(1, Math.ceil(depth / perSecond));
  };

  const unavailable = (response: ServerResponse, reason: string): void => {
    const seconds = retryAfterSeconds();
    response.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': String(seconds) });
    response.end(`busy (${reason}): retry after ${seconds} s\n`);
  };

  const settle = (job: Job, state: JobState): boolean => {
    const was = job.state.kind;
    if (was === 'answered' || was === 'gone') return false;
    if (was === 'waiting') stats.waiting--;
    job.state = state;
    stats.open--;
    return true;
  };

  const shed = (job: Job, reason: DropReason): void => {
    if (!settle(job, { kind: 'answered' })) return;
    stats.shed++;
    stats.byTier[job.tier].shed++;
    unavailable(job.response, reason);
  };

  const work = (job: Job): Observable<Job> =>
    defer(() => {
      if (job.state.kind !== 'waiting') {
        stats.skipped++;
        return EMPTY; // the client left while queued: no work, the worker's credit comes back at once
      }
      stats.waiting--;
      job.state = { kind: 'working', since: performance.now() };
      return timer(job.ms).pipe(map(() => job));
    });

  const done = (job: Job): void => {
    const { state } = job;
    if (state.kind === 'working') {
      const took = performance.now() - state.since;
      meanWorkMs = meanWorkMs === undefined ? took : meanWorkMs * 0.8 + took * 0.2;
    }
    if (!settle(job, { kind: 'answered' })) return;
    stats.ok++;
    stats.byTier[job.tier].ok++;
    stats.latency.record(performance.now() - job.arrived);
    job.response.writeHead(200, { 'Content-Type': 'application/json' });
    job.response.end(JSON.stringify({ tier: job.tier, ms: job.ms }) + '\n');
  };

  const requests = new Subject<Job>();
  const demand = new Demand();
  const pipeline: Subscription = (
    naive
      ? requests.pipe(mergeMap(work, workers))
      : requests.pipe(
          shedByPriority<Job>({
            capacity,
            priority: (job) => RANK[job.tier],
            demand,
            metrics,
            onDrop: ({ value, reason }) => shed(value, reason),
          }),
          demand.drain(work, { concurrency: workers }),
        )
  ).subscribe({
    next: done,
    error: (error: unknown) => console.error('http-server pipeline failed', error),
  });

  const admit = (tier: Tier, ms: number, response: ServerResponse): void => {
    stats.received++;
    if (!naive && tier === 'batch' && metrics.depth >= doorClosesAt) {
      stats.rejected++;
      stats.byTier.batch.rejected++;
      unavailable(response, 'queue over capacity');
      return;
    }
    const job: Job = { tier, ms, arrived: performance.now(), response, state: { kind: 'waiting' } };
    response.once('close', () => {
      if (settle(job, { kind: 'gone' })) stats.abandoned++;
    });
    stats.accepted++;
    stats.open++;
    stats.waiting++;
    requests.next(job);
    stats.peakWaiting = Math.max(stats.peakWaiting, stats.waiting);
    stats.peakDepth = Math.max(stats.peakDepth, metrics.depth);
  };

  const route = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET') {
      response.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET' });
      response.end('GET only\n');
    } else if (url.pathname === '/job') {
      const ms = Number(url.searchParams.get('ms') ?? '0');
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) {
        response.writeHead(400, { 'Content-Type': 'text/plain' });
        response.end('ms must be an integer from 0 to 60000\n');
        return;
      }
      admit(tierOf(request.headers['x-priority']), ms, response);
    } else if (url.pathname === '/health') {
      admit('health', 0, response);
    } else if (url.pathname === '/metrics') {
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'Content-Type': registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { 'Content-Type': 'text/plain' });
          response.end(String(error));
        },
      );
    } else if (url.pathname === '/stats') {
      const { latency, ...counters } = stats;
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify({ ...counters, naive, capacity, workers, p99Ms: latency.percentile(0.99), maxMs: latency.max }),
      );
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('try /job?ms=50, /health, /metrics or /stats\n');
    }
  };

  const server = createServer(route);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let stopping: Promise<void> | undefined;
  const close = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      pipeline.unsubscribe(); // queued requests are shed with reason 'cancelled' (503)
      registration.unregister();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return stopping;
  };
  if (log) {
    const mode = naive ? 'naive: unbounded queue' : `queue ${capacity}, 503 for batch at ${doorClosesAt}`;
    console.log(`listening on ${url} (${workers} workers, ${mode}); try ${url}/job?ms=50`);
  }
  return { url, stats, metrics, close };
}

function tierOf(header: string | string[] | undefined): Tier {
  const value = Array.isArray(header) ? header[0] : header;
  return value === 'health' || value === 'paid' ? value : 'batch';
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`--${name} must be a non-negative integer`);
  return value;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startServer({
    port: flag('port', 3000),
    capacity: flag('capacity', 100),
    workers: flag('workers', 8),
    naive: process.argv.includes('--naive'),
    log: true,
  });
  process.once('SIGINT', () => {
    void server.close().then(() => {
      const { latency, ...counters } = server.stats;
      console.log('final', JSON.stringify({ ...counters, p99Ms: latency.percentile(0.99) }));
    });
  });
}
