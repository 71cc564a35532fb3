/**
 * `npm run bench`: every benchmark in one run, each row against its named baseline.
 * Results are merged into bench/results/latest.json. BENCH_QUICK=1 shortens every case (for a smoke run).
 * `npm run bench -- queue backlog` runs only the files whose names contain those words.
 *
 * What is measured is the package as it ships: every bench file imports `rxjs-backpressure`, which the run resolves
 * through package.json `exports` to dist/ (bench/tsx-dist.mjs, bench/dist.ts). dist/ is rebuilt first when it is
 * older than src/ (BENCH_NO_BUILD=1: stop instead). A bench file runs on its own with
 * `node --expose-gc --import ./bench/tsx-dist.mjs bench/x.bench.ts` (it refuses a stale dist/).
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureFreshDist } from './dist.js';

const here = dirname(fileURLToPath(import.meta.url));
ensureFreshDist();
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort((a, b) => (a === 'queue.bench.ts' ? -1 : b === 'queue.bench.ts' ? 1 : a.localeCompare(b)));

const started = Date.now();
const timings: { file: string; seconds: number }[] = [];
for (const file of files) {
  console.log(`\n# ${file}`);
  const mod = (await import(pathToFileURL(`${here}/${file}`).href)) as { run?: () => Promise<unknown> };
  if (typeof mod.run !== 'function') throw new Error(`${file} exports no run()`);
  const fileStarted = Date.now();
  await mod.run();
  timings.push({ file, seconds: Math.round((Date.now() - fileStarted) / 100) / 10 });
}
console.log('\n## wall time per file');
console.table(timings);
console.log(`\nbench: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(0)} s`);
