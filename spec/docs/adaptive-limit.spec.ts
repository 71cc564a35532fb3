import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BASE,
  CASES,
  CHART,
  DURATION,
  PHASE,
  PHASES,
  PLOT,
  readSvg,
  renderSvg,
  runAll,
  trueC,
  valueAt,
} from '../../scripts/adaptive-limit.js';
import type { LimitRun, Series } from '../../scripts/adaptive-limit.js';

// bench/results/adaptive-limit.svg is drawn by scripts/adaptive-limit.ts from a run of the built package. This re-runs
// the same scenario (here on src/) and compares it with the points the committed chart draws: if the limit's course
// changed (because an algorithm changed) and the chart was not redrawn, this fails.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REGENERATE = 'out of date: run `npm run build && node --import ./bench/tsx-dist.mjs scripts/adaptive-limit.ts`';

/** ms of 0.1 px on the time axis: the drawn points are rounded to 0.1 px, so a drawn step may be this far off. */
const SLACK = Math.ceil((0.1 / (PLOT.right - PLOT.left)) * DURATION) + 1;

/**
 * Where two step functions differ by more than `permits`, sampled every 100 ms: a sample matches if the run has the
 * drawn value at that time or within SLACK of it (rounding); the drawn values are within 0.02 permits of the run's.
 */
function differences(drawn: Series, run: Series, permits = 0.5): string[] {
  const off: string[] = [];
  for (let t = 50; t < DURATION; t += 100) {
    const a = valueAt(drawn, t);
    if ([t, t - SLACK, t + SLACK].some((u) => Math.abs(a - valueAt(run, u)) <= permits)) continue;
    off.push(`at ${(t / 1000).toFixed(2)} s the chart has ${a.toFixed(2)}, the run ${valueAt(run, t)}`);
  }
  return off;
}

let runs: LimitRun[] | undefined;
const regenerated = (): LimitRun[] => (runs ??= runAll());

describe(`${CHART} matches a run of the settling scenario`, () => {
  const path = join(root, CHART);

  it('exists, with a line for C and for each charted algorithm', () => {
    expect(existsSync(path), `${CHART} missing: ${REGENERATE}`).toBe(true);
    const drawn = readSvg(readFileSync(path, 'utf8'));
    expect([...drawn.keys()].sort()).toEqual(['C', ...CASES.map((c) => c.algorithm)].sort());
  });

  it('draws the true C as the scenario has it: 40, 20 from 40 s, 40 from 80 s', () => {
    const drawn = readSvg(readFileSync(path, 'utf8')).get('C')!;
    expect(PHASES).toEqual([40, 20, 40]);
    for (let phase = 0; phase < PHASES.length; phase++) {
      for (const at of [SLACK, PHASE / 2, PHASE - SLACK]) {
        expect(valueAt(drawn, phase * PHASE + at)).toBeCloseTo(PHASES[phase]!, 1);
      }
    }
  });

  for (const { algorithm, model } of CASES) {
    it(`${algorithm} (downstream ${model}): the drawn limit is the run's, within tolerance`, () => {
      const run = regenerated().find((r) => r.algorithm === algorithm)!;
      const drawn = readSvg(readFileSync(path, 'utf8')).get(algorithm);
      expect(drawn, `${algorithm} missing: ${REGENERATE}`).toBeDefined();
      expect(differences(drawn!, run.series), `${CHART} ${REGENERATE}`).toEqual([]);
      // the legend gives the run's settled means
      expect(readFileSync(path, 'utf8')).toContain(`(${run.settled.map((s) => s.toFixed(1)).join(' / ')})`);
    });
  }

  it('the comparison can fail: a limit 2 higher for 10 s, or a step moved by 2 s, is caught', () => {
    const run = regenerated()[0]!;
    const drawn = readSvg(renderSvg(regenerated())).get(run.algorithm)!;
    expect(differences(drawn, run.series)).toEqual([]); // the rendering round-trips
    const raised: Series = run.series.map((p) => ({
      t: p.t,
      limit: p.t >= 50_000 && p.t < 60_000 ? p.limit + 2 : p.limit,
    }));
    expect(differences(readSvg(renderSvg([{ ...run, series: raised }])).get(run.algorithm)!, run.series)).not.toEqual(
      [],
    );
    expect(differences(trueC(), trueC().map((p) => ({ ...p, t: p.t === 0 ? 0 : p.t + 2000 })))).not.toEqual([]);
  });

  it("the settled means are the settling table's in docs/resilience.md (the chart shows the table's runs)", () => {
    const doc = readFileSync(join(root, 'docs/resilience.md'), 'utf8');
    const rows = doc
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    for (const run of regenerated()) {
      const expected = [
        `\`${run.algorithm}\``,
        run.model,
        ...run.settled.map((s) => s.toFixed(1)),
        `${run.served} / ${PHASES.reduce((sum, c) => sum + (c * PHASE) / BASE, 0)}`, // the most possible: C per BASE ms
      ];
      expect(rows, `docs/resilience.md has no settling row ${expected.join(' | ')}`).toContainEqual(expected);
    }
  });

  it('is embedded in docs/resilience.md and in the README (absolute, to the repository)', () => {
    expect(readFileSync(join(root, 'docs/resilience.md'), 'utf8')).toContain(`](../${CHART})`);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(
      `](https://github.com/rxjs-backpressure/rxjs-backpressure/blob/main/${CHART}?raw=true)`,
    );
  });
});
