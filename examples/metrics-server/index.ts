/**
 * Serves /metrics (Prometheus text format) from a Node http server while a bursty pipeline runs through a bounded,
 * lossy queue.
 *
 *   npx tsx examples/metrics-server/index.ts --port 9464 [--duration 30000]
 *   curl http://127.0.0.1:9464/metrics
 *
 * The producer emits about 500 values a second in bursts; the consumer (two at a time, 1-8 ms each) keeps up with a
 * little less, so the queue fills, drops with reason 'overflow', and the alerts are logged as they are raised and
 * cleared. The server listens on 127.0.0.1 only, and stops by itself after --duration ms or on SIGINT.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { Subscription, interval, map, mergeMap, range, timer } from 'rxjs';
import { Demand, QueueMetrics, dropOnFull } from 'rxjs-backpressure';
import { registerQueueMetrics } from 'rxjs-backpressure/prometheus';

export interface MetricsServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. Default 9464. */
  port?: number;
  /** Ms until the server and pipeline stop by themselves. Default 30000. */
  duration?: number;
  /** Log alerts and the URL to the console. Default true. */
  log?: boolean;
}

export interface MetricsServer {
  /** The scrape URL, e.g. http://127.0.0.1:9464/metrics. */
  url: string;
  metrics: QueueMetrics;
  registry: Registry;
  /** Stops the pipeline and the server (idempotent). */
  close(): Promise<void>;
  /** Settles once the server has stopped, however it was stopped. */
  closed: Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { port = 9464, duration = 30_000, log = true } = options;
  const registry = new Registry();
  const metrics = new QueueMetrics();
  const registration = registerQueueMetrics(metrics, {
    name: 'example_jobs',
    registry,
    labels: { example: 'metrics' },
  });

  const demand = new Demand();
  const pipeline = new Subscription();
  pipeline.add(
    interval(20)
      .pipe(
        mergeMap((tick) => range(tick * 10, 10)), // bursts of 10 every 20 ms
        dropOnFull({ capacity: 50, demand, metrics }),
        demand.drain((job) => timer(1 + Math.floor(Math.random() * 8)).pipe(map(() => job)), { concurrency: 2 }),
      )
      .subscribe(),
  );
  pipeline.add(
    metrics.alerts().subscribe((a) => {
      if (log) console.log(`[alert] ${a.kind} ${a.state}: ${a.value.toFixed(3)} (threshold ${a.threshold})`);
    }),
  );

  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
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
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('not found: try /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let stopping: Promise<void> | undefined;
  const close = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      pipeline.unsubscribe();
      registration.unregister();
      server.close(() => resolve());
      server.closeAllConnections();
    }).then(resolveClosed);
    return stopping;
  };
  pipeline.add(timer(duration).subscribe(() => void close()));
  if (log) console.log(`serving ${url} for ${duration} ms (Ctrl-C to stop)`);
  return { url, metrics, registry, close, closed };
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`--${name} must be a non-negative integer`);
  return value;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startMetricsServer({ port: flag('port', 9464), duration: flag('duration', 30_000) });
  process.once('SIGINT', () => void server.close());
  await server.closed;
  console.log('final', JSON.stringify(server.metrics.snapshot()));
}
