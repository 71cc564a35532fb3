/**
 * Bundle size of each export imported alone, and of the whole main entry (issue 8).
 *
 * Each row is what a bundler ships for `import { x } from 'rxjs-backpressure'`: esbuild bundles
 * `export { x } from 'src/index.ts'` as ESM with rxjs external, minifies and tree-shakes it, and node:zlib gzips the
 * result (level 9). The optional peers prom-client and ioredis are external too. Exports that src/index.ts does not list yet (circuitBreak, adaptiveBuffer, ...) are bundled from
 * their own module so their budget is checked before they land.
 *
 * Budgets (min+gzip): <= 2 KB per operator imported alone (and pull, Demand), <= 3 KB circuitBreak / CircuitBreaker,
 * <= 8 KB the whole main entry. Exits 1 when any budget is exceeded. `--why <export>` lists the modules that weigh in
 * that export's bundle (bytes of minified output per input file).
 *
 *   npm run size
 *   npx tsx bench/size.ts --why dropOnFull
 */
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const indexFile = join(root, 'src', 'index.ts');
const KB = 1024;

/** Public exports that may live outside src/index.ts for now: [export name, module under src/]. */
const pending: [string, string][] = [
  ['circuitBreak', 'operators/circuitBreak.ts'],
  ['CircuitBreaker', 'breaker/CircuitBreaker.ts'],
  ['adaptiveBuffer', 'operators/adaptiveBuffer.ts'],
];

const operators = new Set([
  'bufferBounded',
  'dropOnFull',
  'shedByPriority',
  'throttleTokenBucket',
  'adaptiveBuffer',
  'pull',
  'Demand',
]);

function budgetOf(name: string): number | undefined {
  if (name === 'circuitBreak' || name === 'CircuitBreaker') return 3 * KB;
  if (operators.has(name)) return 2 * KB;
  return undefined;
}

interface SizeRow {
  export: string;
  from: string;
  minified: number;
  gzip: number;
  budget: number | undefined;
  inputs: Record<string, number>;
}

async function measure(name: string, contents: string): Promise<SizeRow & { from: string }> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: `size-${name}.ts` },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    treeShaking: true,
    external: ['rxjs', 'rxjs/*', 'prom-client', 'ioredis'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const output = Object.values(result.metafile.outputs)[0]!;
  const inputs: Record<string, number> = {};
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (bytesInOutput > 0) inputs[relative(root, join(root, file))] = bytesInOutput;
  }
  return {
    export: name,
    from: '',
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    budget: budgetOf(name),
    inputs,
  };
}

const spec = (file: string): string => JSON.stringify(file.split('\\').join('/'));

export async function sizes(): Promise<SizeRow[]> {
  const index = (await import(pathToFileURL(indexFile).href)) as Record<string, unknown>;
  const names = Object.keys(index).sort((a, b) => a.localeCompare(b));
  const rows: SizeRow[] = [];
  for (const name of names) {
    rows.push({ ...(await measure(name, `export { ${name} } from ${spec(indexFile)};`)), from: 'src/index.ts' });
  }
  for (const [name, file] of pending) {
    if (names.includes(name)) continue;
    const path = join(root, 'src', file);
    if (!existsSync(path)) continue;
    rows.push({
      ...(await measure(name, `export { ${name} } from ${spec(path)};`)),
      from: `src/${file} (not in index)`,
    });
  }
  const pendingExports = pending
    .filter(([name, file]) => !names.includes(name) && existsSync(join(root, 'src', file)))
    .map(([name, file]) => `export { ${name} } from ${spec(join(root, 'src', file))};`)
    .join('\n');
  rows.push({
    ...(await measure('(whole main entry)', `export * from ${spec(indexFile)};`)),
    from: 'src/index.ts',
    budget: 8 * KB,
  });
  if (pendingExports !== '') {
    rows.push({
      ...(await measure('(main entry + pending exports)', `export * from ${spec(indexFile)};\n${pendingExports}`)),
      from: 'src/index.ts + pending',
      budget: 8 * KB,
    });
  }
  const prometheus = join(root, 'src', 'prometheus', 'index.ts');
  if (existsSync(prometheus)) {
    const r = await measure('rxjs-backpressure/prometheus', `export * from ${spec(prometheus)};`);
    rows.push({ ...r, from: 'src/prometheus/index.ts (prom-client external)', budget: undefined });
  }
  return rows;
}

const kb = (bytes: number): string => `${(bytes / KB).toFixed(2)} KB`;

async function main(): Promise<void> {
  const why = process.argv.indexOf('--why');
  const rows = await sizes();
  console.table(
    rows.map((r) => ({
      export: r.export,
      from: r.from,
      min: kb(r.minified),
      'min+gzip': kb(r.gzip),
      budget: r.budget === undefined ? '' : kb(r.budget),
      status:
        r.budget === undefined
          ? ''
          : r.gzip <= r.budget
            ? 'ok'
            : `OVER by ${r.gzip - r.budget} B (${(((r.gzip - r.budget) / r.budget) * 100).toFixed(0)}%)`,
    })),
  );
  if (why >= 0) {
    const name = process.argv[why + 1];
    const row = rows.find((r) => r.export === name);
    if (!row) throw new Error(`--why: no export named ${String(name)}`);
    console.log(`\nmodules in ${row.export} (minified bytes each, before gzip):`);
    console.table(
      Object.entries(row.inputs)
        .sort((a, b) => b[1] - a[1])
        .map(([file, bytes]) => ({ file, bytes })),
    );
  }
  const over = rows.filter((r) => r.budget !== undefined && r.gzip > r.budget);
  for (const r of over) {
    const heavy = Object.entries(r.inputs)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([file, bytes]) => `${file} ${bytes} B`)
      .join(', ');
    console.error(`size: ${r.export} is ${kb(r.gzip)} min+gzip, over its ${kb(r.budget!)} budget; heaviest: ${heavy}`);
  }
  if (over.length > 0) process.exitCode = 1;
  else console.log('size: every budget met');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
