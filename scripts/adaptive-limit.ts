/**
 * The chart of `adaptiveConcurrency`'s limit over time next to the settling table of docs/resilience.md: `limit$` of
 * gradient2, vegas and aimd through the 120 s settling scenario of spec/limit/adaptiveConcurrency.spec.ts (a flood
 * through `pull()` and `drain` against a downstream of true concurrency C = 40 for 40 s, 20 for 40 s, 40 again; no-load
 * latency 100 ms; gradient2 and vegas against the downstream that slows down above C, aimd against the one that
 * answers 503), in virtual time, drawn as hand-written SVG with the true C as a step line.
 *
 *   node --import ./bench/tsx-dist.mjs scripts/adaptive-limit.ts     writes bench/results/adaptive-limit.svg
 *
 * Run so, `rxjs-backpressure` resolves to the built dist/ (bench/tsconfig.json has no `paths`), and the script refuses
 * a stale build: the chart is a run of the package as it ships. spec/docs/adaptive-limit.spec.ts imports this module
 * (there the package resolves to src/), re-runs the scenario and compares it with the committed chart's points.
 */
import { Observable, VirtualTimeScheduler } from 'rxjs';
import type { Subscription } from 'rxjs';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adaptiveConcurrency, drain, pull } from 'rxjs-backpressure';
import type { LimitAlgorithm } from 'rxjs-backpressure';

/** The scenario: as spec/limit/adaptiveConcurrency.spec.ts has it. */
export const BASE = 100; // ms, the downstream's no-load latency
export const PHASE = 40_000; // ms
export const PHASES = [40, 20, 40];
export const DURATION = PHASE * PHASES.length;

export type Model = 'slows down' | 'answers 503';

/** The charted cases: the algorithm, and the downstream it is shown against. */
export const CASES: ReadonlyArray<{ algorithm: LimitAlgorithm; model: Model; colour: string }> = [
  { algorithm: 'gradient2', model: 'slows down', colour: '#1864ab' },
  { algorithm: 'vegas', model: 'slows down', colour: '#e67700' },
  { algorithm: 'aimd', model: 'answers 503', colour: '#2b8a3e' },
];

/** A step function: `limit` from `t` (ms) until the next point's `t`. */
export type Series = Array<{ t: number; limit: number }>;

export interface LimitRun {
  algorithm: LimitAlgorithm;
  model: Model;
  /** Every value `limit$` emitted, at the virtual time it emitted it. */
  series: Series;
  /** The limit as the mean over the last 10 s of each phase, sampled every 100 ms (the spec table's figure). */
  settled: number[];
  served: number;
}

/** A virtual clock that runs what is due up to a time, then stands at it. */
class Clock extends VirtualTimeScheduler {
  constructor() {
    super(undefined, Infinity);
  }

  advance(ms: number): void {
    const target = this.frame + ms;
    for (;;) {
      const next = this.actions[0] as unknown as
        { delay: number; state: unknown; execute(state: unknown, delay: number): unknown } | undefined;
      if (next === undefined || next.delay > target) break;
      this.actions.shift();
      this.frame = next.delay;
      const error = next.execute(next.state, next.delay);
      if (error) throw error;
    }
    this.frame = target;
  }
}

/**
 * The downstream of the spec: "slows down" is processor sharing above C (latency = BASE x running / C); "answers
 * 503" refuses a call at once (in 5 ms) while C calls are being served.
 */
class Downstream {
  running = 0;
  serving = 0;
  capacity = PHASES[0]!;
  served = 0;

  constructor(
    private readonly clock: Clock,
    private readonly model: Model,
  ) {}

  call(): Observable<number> {
    return new Observable<number>((subscriber) => {
      this.running++;
      const refuse = this.model === 'answers 503' && this.serving >= this.capacity;
      if (!refuse) this.serving++;
      const latency = refuse ? 5 : BASE * Math.max(1, this.running / this.capacity);
      let done = false;
      const reply = this.clock.schedule(() => {
        done = true;
        this.running--;
        if (!refuse) this.serving--;
        if (refuse) {
          subscriber.error(Object.assign(new Error('503'), { status: 503 }));
          return;
        }
        this.served++;
        subscriber.next(1);
        subscriber.complete();
      }, latency);
      return () => {
        if (done) return;
        this.running--;
        if (!refuse) this.serving--;
        reply.unsubscribe();
      };
    });
  }
}

function* flood(): Generator<number> {
  for (let i = 0; ; i++) yield i;
}

/** Runs the scenario for one algorithm against one downstream, recording `limit$`. */
export function simulate(algorithm: LimitAlgorithm, model: Model): LimitRun {
  const clock = new Clock();
  const limiter = adaptiveConcurrency({ algorithm, scheduler: clock });
  const series: Series = [];
  const watch = limiter.limit$.subscribe((limit) => {
    const t = clock.now();
    const last = series[series.length - 1];
    if (last !== undefined && last.t === t) last.limit = limit;
    else series.push({ t, limit });
  });
  const downstream = new Downstream(clock, model);
  const subscriptions: Subscription[] = [
    pull(flood())
      .pipe(drain(() => downstream.call(), { concurrency: limiter, onError: 'continue' }))
      .subscribe(),
  ];
  const settled: number[] = [];
  for (const capacity of PHASES) {
    downstream.capacity = capacity;
    let sum = 0;
    let samples = 0;
    for (let t = 0; t < PHASE; t += 100) {
      clock.advance(100);
      if (t >= PHASE - 10_000) {
        sum += limiter.limit;
        samples++;
      }
    }
    settled.push(sum / samples);
  }
  subscriptions.forEach((s) => s.unsubscribe());
  watch.unsubscribe();
  return { algorithm, model, series, settled, served: downstream.served };
}

/** The value of a step function at `t`. */
export function valueAt(series: Series, t: number): number {
  let value = series[0]?.limit ?? NaN;
  for (const point of series) {
    if (point.t > t) break;
    value = point.limit;
  }
  return value;
}

// The layout, in px: exported so the drift spec reads the drawn points back in ms and permits.
export const WIDTH = 900;
export const HEIGHT = 420;
export const PLOT = { left: 56, right: 880, top: 76, bottom: 370 };
export const Y_MAX = 60;

const x = (t: number): number => PLOT.left + (t / DURATION) * (PLOT.right - PLOT.left);
const y = (limit: number): number => PLOT.bottom - (limit / Y_MAX) * (PLOT.bottom - PLOT.top);
/** One decimal, so the output is byte-for-byte stable. */
const px = (v: number): string => String(Math.round(v * 10) / 10);

/** The pixel coordinates back in ms and permits (to within the rounding of `px`). */
export function fromPixels(px: number, py: number): { t: number; limit: number } {
  return {
    t: ((px - PLOT.left) / (PLOT.right - PLOT.left)) * DURATION,
    limit: ((PLOT.bottom - py) / (PLOT.bottom - PLOT.top)) * Y_MAX,
  };
}

/** A step function as polyline points, to the end of the run. */
function stepPoints(series: Series): string {
  const points: string[] = [];
  series.forEach((point, i) => {
    if (i > 0) points.push(`${px(x(point.t))},${px(y(series[i - 1]!.limit))}`);
    points.push(`${px(x(point.t))},${px(y(point.limit))}`);
  });
  const last = series[series.length - 1];
  if (last !== undefined) points.push(`${px(x(DURATION))},${px(y(last.limit))}`);
  return points.join(' ');
}

/** The true concurrency of the downstream, as a series. */
export function trueC(): Series {
  return PHASES.map((c, i) => ({ t: i * PHASE, limit: c }));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Draws the runs: one step line each, the true C dashed, axes, the settled means in the legend. */
export function renderSvg(runs: LimitRun[]): string {
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="sans-serif" font-size="11">`,
  );
  out.push(
    '<desc>adaptiveConcurrency limit$ over the 120 s settling scenario of spec/limit/adaptiveConcurrency.spec.ts ' +
      '(virtual time), drawn by scripts/adaptive-limit.ts from a run of the built package</desc>',
  );
  out.push('<rect width="100%" height="100%" fill="#fff"/>');
  out.push(
    '<text x="10" y="20" font-size="14" font-weight="bold">adaptiveConcurrency: limit$ while the true concurrency C ' +
      'goes 40, 20, 40 (virtual time)</text>',
  );
  out.push(
    `<text x="10" y="38" fill="#555">a flood through pull() and drain; no-load latency ${BASE} ms; mean of the ` +
      'last 10 s of each phase in brackets</text>',
  );
  // grid and axes
  for (let limit = 0; limit <= Y_MAX; limit += 10) {
    out.push(
      `<line x1="${PLOT.left}" y1="${px(y(limit))}" x2="${PLOT.right}" y2="${px(y(limit))}" stroke="${limit === 0 ? '#999' : '#eee'}"/>`,
    );
    out.push(`<text x="${PLOT.left - 6}" y="${px(y(limit) + 4)}" text-anchor="end">${limit}</text>`);
  }
  for (let t = 0; t <= DURATION; t += 20_000) {
    out.push(`<line x1="${px(x(t))}" y1="${PLOT.bottom}" x2="${px(x(t))}" y2="${PLOT.bottom + 4}" stroke="#999"/>`);
    out.push(`<text x="${px(x(t))}" y="${PLOT.bottom + 16}" text-anchor="middle">${t / 1000} s</text>`);
  }
  out.push(`<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}" stroke="#999"/>`);
  out.push(
    `<text x="16" y="${px((PLOT.top + PLOT.bottom) / 2)}" text-anchor="middle" ` +
      `transform="rotate(-90 16 ${px((PLOT.top + PLOT.bottom) / 2)})">permits (limit)</text>`,
  );
  for (const run of runs) {
    const colour = CASES.find((c) => c.algorithm === run.algorithm)?.colour ?? '#000';
    out.push(
      `<polyline data-series="${run.algorithm}" data-downstream="${run.model}" fill="none" stroke="${colour}" ` +
        `stroke-width="1.5" stroke-linejoin="round" points="${stepPoints(run.series)}"/>`,
    );
  }
  // the true C, over the runs
  out.push(
    `<polyline data-series="C" fill="none" stroke="#333" stroke-width="1.5" stroke-dasharray="6 4" ` +
      `points="${stepPoints(trueC())}"/>`,
  );
  // legend
  const legend: Array<[string, string, boolean]> = [
    ['true concurrency C', '#333', true],
    ...runs.map((run): [string, string, boolean] => [
      `${run.algorithm}, downstream ${run.model} (${run.settled.map((s) => s.toFixed(1)).join(' / ')})`,
      CASES.find((c) => c.algorithm === run.algorithm)?.colour ?? '#000',
      false,
    ]),
  ];
  legend.forEach(([text, colour, dashed], i) => {
    // two columns, two rows, above the plot
    const lx = PLOT.left + 10 + (i % 2) * 400;
    const ly = 56 + Math.floor(i / 2) * 14;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"` +
        `${dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<text x="${lx + 30}" y="${ly}">${escape(text)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The polylines of a chart, by `data-series`, read back in ms and permits. */
export function readSvg(svg: string): Map<string, Series> {
  const found = new Map<string, Series>();
  for (const m of svg.matchAll(/<polyline data-series="([^"]+)"[^>]*?points="([^"]*)"/g)) {
    const points = (m[2] ?? '')
      .split(' ')
      .filter((p) => p !== '')
      .map((p) => {
        const [px = NaN, py = NaN] = p.split(',').map(Number);
        return fromPixels(px, py);
      });
    // back to a step function: a vertical segment (two points at one x) is a step
    const series: Series = [];
    for (const point of points) {
      const last = series[series.length - 1];
      if (last !== undefined && Math.abs(last.t - point.t) < 1e-6) last.limit = point.limit;
      else series.push(point);
    }
    found.set(m[1] ?? '', series);
  }
  return found;
}

export const CHART = 'bench/results/adaptive-limit.svg';

/** Runs every charted case. */
export function runAll(): LimitRun[] {
  return CASES.map(({ algorithm, model }) => simulate(algorithm, model));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  // the package as it ships: refuses src/ (a loader mapping) and a stale dist/
  const { assertShipped } = await import('../bench/dist.js');
  assertShipped(await import('rxjs-backpressure'));
  const runs = runAll();
  for (const run of runs) {
    console.log(
      `${run.algorithm} (${run.model}): limit settled at ${run.settled.map((s) => s.toFixed(1)).join(' / ')} for ` +
        `C = ${PHASES.join(' / ')}; ${run.series.length} values of limit$; served ${run.served}`,
    );
  }
  writeFileSync(join(root, CHART), renderSvg(runs));
  console.log(`chart: ${CHART}`);
}
