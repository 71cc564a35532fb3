/**
 * `npm run bench`: every benchmark in one run, each row against its named baseline.
 * Results are merged into bench/results/latest.json. BENCH_QUICK=1 shortens every case (for a smoke run).
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort((a, b) => (a === 'queue.bench.ts' ? -1 : b === 'queue.bench.ts' ? 1 : a.localeCompare(b)));

const started = Date.now();
for (const file of files) {
  console.log(`\n# ${file}`);
  const mod = (await import(pathToFileURL(`${here}/${file}`).href)) as { run?: () => Promise<unknown> };
  if (typeof mod.run !== 'function') throw new Error(`${file} exports no run()`);
  await mod.run();
}
console.log(`\nbench: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(0)} s`);
