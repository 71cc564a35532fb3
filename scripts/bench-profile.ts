/**
 * CPU profile of `pull -> map -> drain` on the shipped build (dist/), for the perf notes of issue 17
 * (/work/notes/perf-drain.md in the session that wrote it).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof/sync --cpu-prof-interval 50 --import ./bench/tsx-dist.mjs \
 *     scripts/bench-profile.ts sync          # or: async; a third argument picks the project's result: [] | of | promise
 *   node --import ./bench/tsx-dist.mjs scripts/bench-profile.ts --summary /tmp/prof/sync/<file>.cpuprofile
 *
 * A run warms up for 1 s, then runs the pipeline (10^4 values per call) for 4 s and prints ns per value (the profiler
 * slows everything down, so read a profile as shares). `--summary` prints the self time of the 40 heaviest functions
 * as a share of all samples. With the free `drain` exported (API.md "Demand end to end"), DRAIN=free profiles
 * `pull(gen()).pipe(map(f), drain(write))` instead of `demand.drain`.
 */
import { readFileSync } from 'node:fs';
import { map, of } from 'rxjs';
import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import * as shipped from 'rxjs-backpressure';
import { Demand, pull } from 'rxjs-backpressure';
import { assertShipped } from '../bench/dist.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function summary(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const where = f.url.replace(/^.*\/(node_modules\/[^/]+|dist|scripts|bench)\//, '$1/');
    const key = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  for (const [key, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
}

const N = 10_000;
let sink = 0;

function* syncNumbers(): Generator<number> {
  for (let i = 0; i < N; i++) yield i;
}
async function* asyncNumbers(): AsyncGenerator<number> {
  for (let i = 0; i < N; i++) yield i;
}

async function profile(mode: string, shape: string): Promise<void> {
  assertShipped(shipped as unknown as Record<string, unknown>);
  type Project = (x: number) => ObservableInput<unknown>;
  const project: Project =
    shape === '[]'
      ? (x) => ((sink += x), [])
      : shape === 'of'
        ? (x) => ((sink += x), of(x))
        : (x) => ((sink += x), Promise.resolve(x));
  const freeDrain = (shipped as unknown as Record<string, unknown>)['drain'] as
    ((p: Project) => OperatorFunction<number, unknown>) | undefined;
  if (process.env['DRAIN'] === 'free' && !freeDrain) throw new Error('DRAIN=free: dist/ exports no drain');
  const input = (): Iterable<number> | AsyncIterable<number> => (mode === 'sync' ? syncNumbers() : asyncNumbers());
  const pipeline = (): Observable<unknown> => {
    if (process.env['DRAIN'] === 'free') {
      const linked = pull as unknown as (i: Iterable<number> | AsyncIterable<number>) => Observable<number>;
      return linked(input()).pipe(
        map((x) => x * 2),
        freeDrain!(project),
      );
    }
    const d = new Demand();
    return pull(input(), d).pipe(
      map((x) => x * 2),
      d.drain(project),
    );
  };
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => pipeline().subscribe({ error: reject, complete: resolve }));
  const runFor = async (ms: number): Promise<{ calls: number; ms: number }> => {
    let calls = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      await once();
      calls++;
    }
    return { calls, ms: performance.now() - start };
  };
  await runFor(1000);
  const { calls, ms } = await runFor(4000);
  console.log(`${mode} ${shape}: ${((ms * 1e6) / (calls * N)).toFixed(1)} ns/value over ${calls * N} values`);
  if (sink === -1) console.log(sink);
}

if (process.argv[2] === '--summary') summary(process.argv[3]!);
else {
  const mode = process.argv[2] ?? 'sync';
  await profile(mode, process.argv[3] ?? (mode === 'sync' ? '[]' : 'promise'));
}
