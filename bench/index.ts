/**
 * `npm run bench`: every benchmark in one run, each row against its named baseline.
 * Results are merged into bench/results/latest.json. BENCH_QUICK=1 shortens every case (for a smoke run).
 * `npm run bench -- queue backlog` runs only the files whose names contain those words.
 *
 * src/ is compiled like the published build (bench/shipped-build.mjs); BENCH_TSX_SRC=1 measures tsx's compilation
 * instead. A bench file run on its own (`node --expose-gc --import tsx bench/x.bench.ts`) runs tsx's compilation
 * unless `--import ./bench/register.mjs` comes after `--import tsx`.
 */
import { readdirSync } from 'node:fs';
import { register } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// src/ compiled as the published build is (no keepNames), not as tsx compiles it: see bench/shipped-build.mjs.
if (process.env['BENCH_TSX_SRC'] !== '1') register(pathToFileURL(`${here}/shipped-build.mjs`).href);
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
