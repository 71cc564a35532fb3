/**
 * `npm run bench`: every benchmark in one run, each row against its named baseline. Every bench file runs in a fresh
 * process of its own (same flags as this one), so its figures do not depend on what ran before it: in one shared
 * process the streams rows read 1.66x to 1.72x Node's time in three full runs, against 1.24x to 1.29x in three full
 * runs with a process per file (rxjs call sites warmed by the other files' subscriber shapes).
 * Results are merged into bench/results/latest.json. BENCH_QUICK=1 shortens every case (for a smoke run).
 * `npm run bench -- queue backlog` runs only the files whose names contain those words.
 *
 * What is measured is the package as it ships: every bench file imports `rxjs-backpressure`, which the run resolves
 * through package.json `exports` to dist/ (bench/tsx-dist.mjs, bench/dist.ts). dist/ is rebuilt first when it is
 * older than src/ (BENCH_NO_BUILD=1: stop instead). A bench file runs on its own with
 * `node --expose-gc --import ./bench/tsx-dist.mjs bench/x.bench.ts` (it refuses a stale dist/).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  const fileStarted = Date.now();
  const child = spawnSync(process.execPath, [...process.execArgv, join(here, file)], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`bench: ${file} failed (exit ${child.status ?? child.signal})`);
  timings.push({ file, seconds: Math.round((Date.now() - fileStarted) / 100) / 10 });
}
console.log('\n## wall time per file');
console.table(timings);
console.log(`\nbench: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(0)} s`);
