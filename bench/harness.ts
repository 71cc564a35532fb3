/**
 * The one benchmark harness: every row is measured against a named baseline in the same run.
 *
 * Each case runs in `rounds` separate tinybench runs (baseline and candidates interleaved, so drift hits both), and
 * reports the median over rounds of each task's median latency, divided by the values one call pushes through. A
 * row's ratio is the median over rounds of its per-round ratio to the baseline of the same round (paired, so load that
 * changes between rounds cancels out); its spread is (max - min) / median of those per-round ratios (of the per-round
 * ns for the baseline row). Results go to bench/results/latest.json (merged by group) and to stdout.
 *
 * Importing this module checks that the library under measurement is the built dist/ (bench/dist.ts): every bench
 * file imports `rxjs-backpressure`, resolved through the package's `exports`, never src/.
 */
import { Bench } from 'tinybench';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as shipped from 'rxjs-backpressure';
import { assertShipped, provenance } from './dist.js';

assertShipped(shipped);

export interface BenchCase {
  name: string;
  /** One call; it pushes `values` values through (default 1). May return a promise. */
  fn: () => unknown;
  values?: number;
  /** This row's goal as the highest acceptable ratio to the baseline; printed with whether it is met. */
  goal?: number;
}

export interface BenchRow {
  group: string;
  name: string;
  baseline: string;
  /** ns per value (median over rounds). */
  ns: number;
  baselineNs: number;
  /** Median over rounds of this row's ns / the baseline's ns in the same round. */
  ratio: number;
  /** (max - min) / median of the per-round ratios (of the per-round ns, for the baseline row). */
  spread: number;
  goal?: string;
  /** 'met' or 'missed by N.NNx', for a row with a numeric goal. */
  verdict?: string;
  /** The numeric goal (highest acceptable ratio) behind `goal` and `verdict`. */
  goalRatio?: number;
}

function verdict(ratio: number, goal: number): string {
  return ratio <= goal ? 'met' : `missed by ${(ratio / goal).toFixed(2)}x`;
}

const quick = process.env['BENCH_QUICK'] === '1';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs baseline and candidates `rounds` times and returns one row per candidate (and one for the baseline). */
export async function compare(
  group: string,
  baseline: BenchCase,
  candidates: BenchCase[],
  options: { rounds?: number; time?: number; goal?: string } = {},
): Promise<BenchRow[]> {
  const rounds = options.rounds ?? (quick ? 2 : 5);
  const time = options.time ?? (quick ? 50 : 200);
  const all = [baseline, ...candidates];
  const perRound = new Map<string, number[]>(all.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    // tinybench runs at least `iterations` calls even past `time` (default 64): a case whose call takes 100 ms would
    // take 6 s a round, so a few calls suffice; fast cases are bounded by `time`.
    // The JIT stays warm from one round to the next: only the first round warms up for long.
    const bench = new Bench({
      time,
      iterations: 5,
      warmup: true,
      warmupTime: r === 0 ? Math.min(100, time) : Math.min(20, time),
      warmupIterations: 2,
    } as never);
    const order = r % 2 === 0 ? all : [...all].reverse();
    for (const c of order) bench.add(c.name, c.fn as () => void);
    await bench.run();
    for (const task of bench.tasks) {
      const c = all.find((x) => x.name === task.name)!;
      const result = task.result as unknown as { latency?: { p50?: number; mean?: number } } | undefined;
      const ms = result?.latency?.p50 ?? result?.latency?.mean;
      if (ms === undefined) throw new Error(`bench ${group} / ${task.name} produced no result`);
      perRound.get(c.name)!.push((ms * 1e6) / (c.values ?? 1));
    }
  }
  const baselineRounds = perRound.get(baseline.name)!;
  const baselineNs = median(baselineRounds);
  return all.map((c) => {
    const xs = perRound.get(c.name)!;
    const ns = median(xs);
    const ratios = xs.map((x, r) => x / baselineRounds[r]!);
    const ratio = median(ratios);
    const spreadOf = c === baseline ? xs : ratios;
    const row: BenchRow = {
      group,
      name: c.name,
      baseline: baseline.name,
      ns,
      baselineNs,
      ratio,
      spread: (Math.max(...spreadOf) - Math.min(...spreadOf)) / median(spreadOf),
    };
    if (options.goal !== undefined && c !== baseline) row.goal = options.goal;
    if (c.goal !== undefined && c !== baseline) {
      row.goal = `<= ${c.goal}x`;
      row.goalRatio = c.goal;
      row.verdict = verdict(row.ratio, c.goal);
    }
    return row;
  });
}

/**
 * One row per case from the rows of several processes that each ran the same `compare` calls: ns and ratio are the
 * medians over processes, the spread is that of the per-process ratios (of the per-process ns, for a baseline).
 */
export function combineProcesses(runs: BenchRow[][]): BenchRow[] {
  return runs[0]!.map((first) => {
    const same = runs.map((rows) => rows.find((r) => r.group === first.group && r.name === first.name)!);
    const isBaseline = first.name === first.baseline;
    const ratios = same.map((r) => r.ratio);
    const spreadOf = isBaseline ? same.map((r) => r.ns) : ratios;
    const row: BenchRow = {
      ...first,
      ns: median(same.map((r) => r.ns)),
      baselineNs: median(same.map((r) => r.baselineNs)),
      ratio: median(ratios),
      spread: (Math.max(...spreadOf) - Math.min(...spreadOf)) / median(spreadOf),
    };
    if (row.goalRatio !== undefined) row.verdict = verdict(row.ratio, row.goalRatio);
    return row;
  });
}

function fmt(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(1)} ns`;
}

/** Prints rows as a table of ratios. */
export function print(rows: BenchRow[]): void {
  const groups = [...new Set(rows.map((r) => r.group))];
  for (const g of groups) {
    console.log(`\n## ${g}`);
    console.table(
      rows
        .filter((r) => r.group === g)
        .map((r) => ({
          case: r.name,
          'per value': fmt(r.ns),
          'vs baseline': r.name === r.baseline ? 'baseline' : `${r.ratio.toFixed(2)}x`,
          spread: `±${((r.spread * 100) / 2).toFixed(0)}%`,
          goal: r.goal === undefined ? '' : r.verdict === undefined ? r.goal : `${r.goal}: ${r.verdict}`,
        })),
    );
  }
}

const resultsFile = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

/** Merges rows (and any extra named sections) into bench/results/latest.json. */
export function save(rows: BenchRow[], extra: Record<string, unknown> = {}): void {
  let previous: { rows?: BenchRow[]; [k: string]: unknown } = {};
  try {
    previous = JSON.parse(readFileSync(resultsFile, 'utf8')) as typeof previous;
  } catch {
    // first run
  }
  const groups = new Set(rows.map((r) => r.group));
  const kept = (previous.rows ?? []).filter((r) => !groups.has(r.group));
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(
    resultsFile,
    JSON.stringify(
      {
        ...previous,
        ...extra,
        node: process.version,
        date: new Date().toISOString(),
        shipped: provenance(),
        rows: [...kept, ...rows],
      },
      null,
      2,
    ) + '\n',
  );
}
