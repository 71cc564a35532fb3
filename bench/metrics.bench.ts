/**
 * Overhead of QueueMetrics on a queue operator.
 *
 * Fast path: 10^4 values pushed through dropOnFull({ capacity: 100 }) with unbounded demand, so every value is delivered
 * at once (no clock read): with `metrics` vs without (the baseline), from a Subject and from `from(array)`.
 * Queued path: the same with a Demand granting 100 credits after every 100 values, so every value waits in the queue and
 * the clock is read twice per value (enqueue and dequeue) once metrics are on.
 * Goal: metrics on / off <= 1.2x on the fast path.
 */
import { Subject, from } from 'rxjs';
import { pathToFileURL } from 'node:url';
import { Demand, QueueMetrics, dropOnFull } from 'rxjs-backpressure';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const N = 10_000;
const values = Array.from({ length: N }, (_, i) => i);
let sink = 0;
const consume = (v: number): void => {
  sink += v;
};

function subjectRun(metrics: QueueMetrics | undefined): () => void {
  return () => {
    const subject = new Subject<number>();
    const options = metrics ? { capacity: 100, metrics } : { capacity: 100 };
    const subscription = subject.pipe(dropOnFull<number>(options)).subscribe(consume);
    for (let i = 0; i < N; i++) subject.next(i);
    subscription.unsubscribe();
  };
}

function arrayRun(metrics: QueueMetrics | undefined): () => void {
  return () => {
    const options = metrics ? { capacity: 100, metrics } : { capacity: 100 };
    from(values).pipe(dropOnFull<number>(options)).subscribe(consume);
  };
}

function queuedRun(metrics: QueueMetrics | undefined): () => void {
  return () => {
    const subject = new Subject<number>();
    const demand = new Demand();
    const options = metrics ? { capacity: 100, demand, metrics } : { capacity: 100, demand };
    const subscription = subject.pipe(dropOnFull<number>(options)).subscribe(consume);
    for (let i = 0; i < N; i++) {
      subject.next(i);
      if (i % 100 === 99) demand.request(100);
    }
    subscription.unsubscribe();
  };
}

export async function run(): Promise<BenchRow[]> {
  const goal = '<= 1.2x';
  const metrics = new QueueMetrics();
  const rows = [
    ...(await compare(
      'metrics: fast path, Subject -> dropOnFull({ capacity: 100 })',
      { name: 'without metrics', fn: subjectRun(undefined), values: N },
      [{ name: 'with metrics', fn: subjectRun(metrics), values: N }],
      { goal },
    )),
    ...(await compare(
      'metrics: fast path, from(array) -> dropOnFull({ capacity: 100 })',
      { name: 'without metrics', fn: arrayRun(undefined), values: N },
      [{ name: 'with metrics', fn: arrayRun(metrics), values: N }],
      { goal },
    )),
    ...(await compare(
      'metrics: queued path, every value waits (clock read on enqueue and dequeue)',
      { name: 'without metrics', fn: queuedRun(undefined), values: N },
      [{ name: 'with metrics', fn: queuedRun(metrics), values: N }],
    )),
  ];
  if (sink === -1) console.log(sink);
  print(rows);
  save(rows);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
