/**
 * An HTTP server that stays responsive under overload and never leaves a request unanswered: a `BoundedSubject` in
 * front of a fixed pool of workers (`drain`), answering `503 Service Unavailable` with `Retry-After` instead of
 * queueing without bound, `500` for a job that fails, and `503` (never silence) once the pipeline has died.
 *
 *   npm run example:http -- --port 3000 [--capacity 100] [--workers 8] [--naive]
 *   curl -i 'http://127.0.0.1:3000/job?ms=50' -H 'x-priority: paid'
 *   curl -i 'http://127.0.0.1:3000/job?ms=50&fail=1'        (a job whose handler throws: 500, the server goes on)
 *   npx autocannon -c 50 -R 2000 -d 10 'http://127.0.0.1:3000/job?ms=50'
 *   curl http://127.0.0.1:3000/metrics
 *
 * Routes (GET, on 127.0.0.1 only):
 * - `/job?ms=M`: M ms of simulated work (a timer), 0 <= M <= 60000; `&fail=1` makes the job's handler throw after its
 *   work; `&crash=1` makes its answer hit a bug in the code after the workers, which kills the pipeline (to show
 *   what a dead pipeline answers). Priority from the `x-priority` header: `health`, `paid`, `batch` (missing or
 *   unknown: `batch`)
 * - `/health`: a health check with no work of its own, through the same queue (so it reports whether the queue moves)
 * - `/metrics`: the queue's QueueMetrics in the Prometheus text format; `/stats`: this server's counters as JSON
 *
 * Every request is answered exactly once:
 * - At the door: while the queue is at least 80% full (`shedAt`), `batch` requests get 503 and are never offered; the
 *   last 20% is headroom for `paid` and `health`.
 * - `requests.offer(job)` answers at once: `'delivered'` (a worker took it) or `'queued'`; `'dropped'` (the queue is
 *   full): 503; `'closed'` (the pipeline has died or is shutting down): 503. The handler answers from that result.
 * - The workers are `drain(work, { concurrency: workers, onError: 'continue' })`, linked to the BoundedSubject: a job
 *   is handed over only when a worker is free, so at most `workers` run and at most `capacity` wait, with no Demand
 *   written by hand. A job whose handler throws is reported `'failed'` to the drain's `onDrop` and answered 500; the
 *   worker takes the next job: one failing job costs one 500, not the server.
 * - A pipeline that dies anyway (a bug after the workers): the jobs it held are reported `'cancelled'` (queued ones by
 *   the BoundedSubject, running ones by the drain) and answered 503, the job that hit the bug 500, and every later
 *   request 503 from `offer()`'s `'closed'`. Nothing waits forever.
 * - `Retry-After` (whole seconds, at least 1) is the time the queue needs to drain: depth / throughput, the throughput
 *   estimated from the measured work time of recent requests and the number of workers.
 * - A client that disconnects while queued keeps its slot until a worker reaches it; the worker then skips it without
 *   doing the work (counted as `abandoned` and `skipped`).
 *
 * `--naive` pushes into a plain `Subject` nobody bounds instead (`mergeMap(work, workers)`): every request is accepted
 * and answered in the end, but under overload the wait grows for as long as the overload lasts, and so does memory.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { EMPTY, Subject, catchError, defer, map, mergeMap, tap, timer } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import { BoundedSubject, QueueMetrics, drain } from 'rxjs-backpressure';
import type { DropReason, Dropped } from 'rxjs-backpressure';
import { registerQueueMetrics } from 'rxjs-backpressure/prometheus';
import { LatencyRecorder } from './latency.js';

/** Traffic classes, most important first. */
export type Tier = 'health' | 'paid' | 'batch';

export const TIERS: readonly Tier[] = ['health', 'paid', 'batch'];

export interface HttpServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. Default 3000. */
  port?: number;
  /** Most requests waiting in the queue. Default 100. */
  capacity?: number;
  /** Requests worked on at once. Default 8. */
  workers?: number;
  /** Fill ratio (0..1] at which batch requests are turned away at the door. Default 0.8. */
  shedAt?: number;
  /** Push into a Subject nobody bounds (`mergeMap(work, workers)`) instead, for comparison. Default false. */
  naive?: boolean;
  /** Print the URL. Default false. */
  log?: boolean;
}

/** Per traffic class: requests answered 200, turned away at the door, refused or dropped by the queue. */
export interface TierStats {
  ok: number;
  rejected: number;
  shed: number;
}

/** Live counters of one server (they change as requests come and go). */
export interface HttpServerStats {
  /** Job and health requests received. */
  received: number;
  /** Requests the queue took (`offer()` answered 'delivered' or 'queued'). */
  accepted: number;
  /** Answered 200 after their work. */
  ok: number;
  /** Answered 500: the job's handler failed (or its answer hit the bug that killed the pipeline). */
  failed: number;
  /** Answered 503 at the door (queue at least `shedAt` full). */
  rejected: number;
  /** Answered 503 by the queue: `offer()` said 'dropped', or a queued or running job was dropped later. */
  shed: number;
  /** Answered 503 because `offer()` said 'closed': the pipeline had died or was shutting down. */
  closed: number;
  /** Client gone before its answer. */
  abandoned: number;
  /** Skipped by a worker because the client was gone (part of `abandoned`). */
  skipped: number;
  /** Requests waiting for a worker now, and the most there ever were. */
  waiting: number;
  peakWaiting: number;
  /** The most values the library's queue held (`requests.size` after each offer); 0 in naive mode. */
  peakDepth: number;
  /** Requests accepted and not yet answered or abandoned. */
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
  /** The error the pipeline died with, if it has. */
  readonly died: unknown;
  /** Stops the pipeline (queued requests get 503) and the server; idempotent. */
  close(): Promise<void>;
}

/** Where a request is on its way through the server. */
type JobState = { kind: 'waiting' } | { kind: 'working'; since: number } | { kind: 'answered' } | { kind: 'gone' };

interface Job {
  tier: Tier;
  ms: number;
  /** Its handler throws after the work (a failing job). */
  fail: boolean;
  /** Its answer hits a bug after the workers (kills the pipeline). */
  crash: boolean;
  arrived: number;
  response: ServerResponse;
  state: JobState;
}

/** A job's result, as the code after the workers writes it. */
interface Outcome {
  job: Job;
  body: { tier: Tier; ms: number; crash?: bigint };
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
    failed: 0,
    rejected: 0,
    shed: 0,
    closed: 0,
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
  /** Jobs accepted and not yet answered: what a dying pipeline must still answer. */
  const openJobs = new Set<Job>();
  /** Mean measured work time in ms (exponentially weighted), for the throughput estimate behind Retry-After. */
  let meanWorkMs: number | undefined;
  let died: unknown;

  const metrics = new QueueMetrics();
  const registry = new Registry();
  const registration = registerQueueMetrics(metrics, { name: 'http_jobs', registry });

  const retryAfterSeconds = (): number => {
    const perSecond = (workers * 1000) / Math.max(meanWorkMs ?? 1000, 1);
    const depth = naive ? stats.waiting : requests.size;
    return Math.max(1, Math.ceil(depth / perSecond));
  };

  const unavailable = (response: ServerResponse, reason: string): void => {
    const seconds = retryAfterSeconds();
    response.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': String(seconds) });
    response.end(`busy (${reason}): retry after ${seconds} s\n`);
  };

  /** Moves a job to an end state once; false if it had one already (answered, or its client gone). */
  const settle = (job: Job, state: JobState): boolean => {
    const was = job.state.kind;
    if (was === 'answered' || was === 'gone') return false;
    if (was === 'waiting') stats.waiting--;
    job.state = state;
    stats.open--;
    openJobs.delete(job);
    return true;
  };

  /** A job the queue or a worker let go of: 503. */
  const shed = (job: Job, reason: DropReason): void => {
    if (!settle(job, { kind: 'answered' })) return;
    stats.shed++;
    stats.byTier[job.tier].shed++;
    unavailable(job.response, reason);
  };

  const fail = (job: Job, error: unknown): void => {
    if (!settle(job, { kind: 'answered' })) return;
    stats.failed++;
    job.response.writeHead(500, { 'Content-Type': 'text/plain' });
    job.response.end(`job failed: ${error instanceof Error ? error.message : String(error)}\n`);
  };

  const work = (job: Job): Observable<Outcome> =>
    defer(() => {
      if (job.state.kind !== 'waiting') {
        stats.skipped++;
        return EMPTY; // the client left while queued: no work, the worker takes the next job at once
      }
      stats.waiting--;
      job.state = { kind: 'working', since: performance.now() };
      return timer(job.ms).pipe(
        map((): Outcome => {
          if (job.fail) throw new Error('the handler threw');
          return { job, body: job.crash ? { tier: job.tier, ms: job.ms, crash: 1n } : { tier: job.tier, ms: job.ms } };
        }),
      );
    });

  /** The job whose answer is being written (the one to blame if writing it kills the pipeline). */
  let answering: Job | undefined;
  /** Writes the 200. A body it cannot serialize (`crash=1`: a BigInt) throws here, after the workers. */
  const respond = ({ job, body }: Outcome): void => {
    const { state } = job;
    if (state.kind === 'working') {
      const took = performance.now() - state.since;
      meanWorkMs = meanWorkMs === undefined ? took : meanWorkMs * 0.8 + took * 0.2;
    }
    if (job.state.kind === 'answered' || job.state.kind === 'gone') return;
    answering = job;
    const text = JSON.stringify(body) + '\n'; // the bug: throws for a BigInt
    answering = undefined;
    settle(job, { kind: 'answered' });
    stats.ok++;
    stats.byTier[job.tier].ok++;
    stats.latency.record(performance.now() - job.arrived);
    job.response.writeHead(200, { 'Content-Type': 'application/json' });
    job.response.end(text);
  };

  /** The job being offered: offer() answers it itself, so onDrop leaves it alone. */
  let offering: Job | undefined;
  const requests = new BoundedSubject<Job>({
    capacity,
    metrics,
    // queued jobs the queue lets go of later: 'cancelled' when the pipeline dies or the server stops
    onDrop: ({ value, reason }) => {
      if (value !== offering) shed(value, reason);
    },
  });
  const naiveRequests = new Subject<Job>();

  const pipeline: Subscription = (
    naive
      ? naiveRequests.pipe(
          mergeMap(
            (job) =>
              work(job).pipe(
                catchError((error: unknown) => {
                  fail(job, error);
                  return EMPTY;
                }),
              ),
            workers,
          ),
        )
      : requests.pipe(
          drain(work, {
            concurrency: workers,
            onError: 'continue',
            // 'failed': the handler threw (500); 'cancelled': running when the pipeline died or the server stopped
            onDrop: ({ value, reason, error }: Dropped<Job>) =>
              reason === 'failed' ? fail(value, error) : shed(value, reason),
          }),
        )
  )
    .pipe(tap(respond))
    .subscribe({
      error: (error: unknown) => {
        died = error;
        console.error('http-server: the pipeline died; every request is answered 503 from now on:', error);
        if (answering !== undefined) fail(answering, error); // the job whose answer hit the bug: 500
        // the teardown that follows this call answers the jobs the pipeline held (503); anything left, a 500
        queueMicrotask(() => {
          for (const job of [...openJobs]) fail(job, error);
        });
      },
    });

  const admit = (tier: Tier, job: Omit<Job, 'tier' | 'arrived' | 'state'>): void => {
    stats.received++;
    const depth = naive ? 0 : requests.size;
    if (!naive && tier === 'batch' && depth >= doorClosesAt && !requests.closed) {
      stats.rejected++;
      stats.byTier.batch.rejected++;
      unavailable(job.response, 'queue over 80% full');
      return;
    }
    const entry: Job = { ...job, tier, arrived: performance.now(), state: { kind: 'waiting' } };
    entry.response.once('close', () => {
      if (settle(entry, { kind: 'gone' })) stats.abandoned++;
    });
    stats.open++;
    stats.waiting++;
    openJobs.add(entry);
    if (naive) {
      stats.accepted++;
      naiveRequests.next(entry);
    } else {
      offering = entry;
      const answer = requests.offer(entry);
      offering = undefined;
      if (answer === 'dropped') shed(entry, 'overflow');
      else if (answer === 'closed') {
        if (settle(entry, { kind: 'answered' })) {
          stats.closed++;
          unavailable(entry.response, 'the pipeline is down');
        }
      } else stats.accepted++;
    }
    stats.peakWaiting = Math.max(stats.peakWaiting, stats.waiting);
    stats.peakDepth = Math.max(stats.peakDepth, naive ? 0 : requests.size);
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
      const fail = url.searchParams.get('fail') === '1';
      const crash = url.searchParams.get('crash') === '1';
      admit(tierOf(request.headers['x-priority']), { ms, fail, crash, response });
    } else if (url.pathname === '/health') {
      admit('health', { ms: 0, fail: false, crash: false, response });
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
        JSON.stringify({
          ...counters,
          naive,
          capacity,
          workers,
          alive: died === undefined,
          p99Ms: latency.percentile(0.99),
          maxMs: latency.max,
        }),
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
      pipeline.unsubscribe(); // queued and running requests are dropped with reason 'cancelled' (503)
      registration.unregister();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return stopping;
  };
  if (log) {
    const mode = naive ? 'naive: a Subject nobody bounds' : `queue ${capacity}, 503 for batch at ${doorClosesAt}`;
    console.log(`listening on ${url} (${workers} workers, ${mode}); try ${url}/job?ms=50`);
  }
  return {
    url,
    stats,
    metrics,
    get died() {
      return died;
    },
    close,
  };
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
