/**
 * Overhead of QueueMetrics on a queue operator, and of the Prometheus queue-time histogram on top of it.
 *
 * Fast path: 10^4 values pushed through dropOnFull({ capacity: 100 }) with unbounded demand, so every value is delivered
 * at once (no clock read): with `metrics` vs without (the baseline), and with metrics registered with
 * registerQueueMetrics (so an exact histogram is attached), from a Subject and from `from(array)`.
 * Queued path: the same with a Demand granting 100 credits after every 100 values, so every value waits in the queue and
 * the clock is read twice per value (enqueue and dequeue) once metrics are on; with the histogram, each of those values
 * is also counted into its bucket.
 * Goals: metrics on / off <= 1.2x on the fast path; the histogram adds nothing measurable there (it sees only waits).
 *
 * BENCH_DIST=<dir> measures a built package directory (index.js and prometheus.js, e.g. dist/) instead of src/.
 * BENCH_BASELINE_DIST=<dir> adds rows that compare this build with another one (e.g. a build of main) in the same run:
 * the same pipeline with metrics, the other build as the baseline.
 */
import { Registry } from 'prom-client';
import { Subject, from } from 'rxjs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';
import type * as Core from '../src/index.js';
import type * as Prometheus from '../src/prometheus/index.js';

interface Build {
  core: typeof Core;
  prometheus: typeof Prometheus;
}

async function load(dir: string | undefined): Promise<Build> {
  if (dir === undefined) {
    return { core: await import('../src/index.js'), prometheus: await import('../src/prometheus/index.js') };
  }
  const url = (file: string): string => pathToFileURL(resolve(dir, file)).href;
  return {
    core: (await import(url('index.js'))) as typeof Core,
    prometheus: (await import(url('prometheus.js'))) as typeof Prometheus,
  };
}

const N = 10_000;
const values = Array.from({ length: N }, (_, i) => i);
let sink = 0;
const consume = (v: number): void => {
  sink += v;
};

type Metrics = InstanceType<typeof Core.QueueMetrics>;
type Run = (build: Build, metrics: Metrics | undefined) => () => void;

const subjectRun: Run = ({ core }, metrics) => {
  const options = metrics ? { capacity: 100, metrics } : { capacity: 100 };
  return () => {
    const subject = new Subject<number>();
    const subscription = subject.pipe(core.dropOnFull<number>(options)).subscribe(consume);
    for (let i = 0; i < N; i++) subject.next(i);
    subscription.unsubscribe();
  };
};

const arrayRun: Run = ({ core }, metrics) => {
  const options = metrics ? { capacity: 100, metrics } : { capacity: 100 };
  return () => {
    from(values).pipe(core.dropOnFull<number>(options)).subscribe(consume);
  };
};

const queuedRun: Run =
  ({ core }, metrics) =>
  () => {
    const subject = new Subject<number>();
    const demand = new core.Demand();
    const options = metrics ? { capacity: 100, demand, metrics } : { capacity: 100, demand };
    const subscription = subject.pipe(core.dropOnFull<number>(options)).subscribe(consume);
    for (let i = 0; i < N; i++) {
      subject.next(i);
      if (i % 100 === 99) demand.request(100);
    }
    subscription.unsubscribe();
  };

/** A QueueMetrics of `build`, registered with a registry of its own when `histogram` (an exact histogram attached). */
function metricsOf({ core, prometheus }: Build, histogram: boolean): Metrics {
  const metrics = new core.QueueMetrics();
  if (histogram) prometheus.registerQueueMetrics(metrics, { name: 'bench', registry: new Registry() });
  return metrics;
}

export async function run(): Promise<BenchRow[]> {
  const build = await load(process.env['BENCH_DIST']);
  const goal = '<= 1.2x';
  const paths: [string, Run][] = [
    ['fast path, Subject -> dropOnFull({ capacity: 100 })', subjectRun],
    ['fast path, from(array) -> dropOnFull({ capacity: 100 })', arrayRun],
    ['queued path, every value waits (clock read on enqueue and dequeue)', queuedRun],
  ];
  const rows: BenchRow[] = [];
  for (const [path, fn] of paths) {
    const fast = path.startsWith('fast');
    rows.push(
      ...(await compare(
        `metrics: ${path}`,
        { name: 'without metrics', fn: fn(build, undefined), values: N },
        [
          { name: 'with metrics', fn: fn(build, metricsOf(build, false)), values: N },
          { name: 'with metrics and a registered histogram', fn: fn(build, metricsOf(build, true)), values: N },
        ],
        fast ? { goal } : {},
      )),
    );
  }
  // results/latest.json keeps the rows of this build only: the comparison with another build is for the console
  save(rows);
  const baselineDir = process.env['BENCH_BASELINE_DIST'];
  if (baselineDir !== undefined) {
    const before = await load(baselineDir);
    for (const [path, fn] of paths) {
      rows.push(
        ...(await compare(
          `metrics: ${path}, this build vs ${baselineDir}`,
          { name: `with metrics, ${baselineDir}`, fn: fn(before, metricsOf(before, false)), values: N },
          [
            { name: 'with metrics, this build', fn: fn(build, metricsOf(build, false)), values: N },
            { name: 'with metrics and a histogram, this build', fn: fn(build, metricsOf(build, true)), values: N },
          ],
        )),
      );
    }
  }
  if (sink === -1) console.log(sink);
  print(rows);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
