/**
 * Bundle size of each export imported alone, of a typical page, and of the whole main entry (issues 8, 16 and 19).
 *
 * Each row is what a bundler ships for `import { x } from 'rxjs-backpressure'`: esbuild bundles
 * `export { x } from 'src/index.ts'` as ESM with rxjs external, minifies and tree-shakes it, and node:zlib gzips the
 * result (level 9). The optional peers prom-client and ioredis are external too. A page row bundles several exports
 * imported together (what they share is counted once).
 *
 * Budgets (min+gzip), issue 19: <= 2.5 KB for every queue operator (bufferBounded, dropOnFull, shedByPriority,
 * adaptiveBuffer, latestPerFrame) and throttleTokenBucket without a store, <= 3 KB circuitBreak / CircuitBreaker, and
 * <= 4.5 KB the page importing throttleTokenBucket, dropOnFull and drain together. Issue 8: <= 2 KB pull and Demand,
 * <= 8 KB the whole main entry. Exits 1 when any budget is exceeded.
 *
 * Issue 16 asks that no import be worse than before the restructuring: the `start of day` column is each import as
 * this same measure found it at commit cfe1e9f (blank for imports that did not exist then), `vs start` the change.
 *
 * `--why <export>` lists the modules that weigh in that export's bundle: the bytes of minified output per input file,
 * and the gzip bytes each costs in context (the bundle deflated module by module, in output order, through one
 * stream: what a module costs after the modules before it; the flushes between modules add a few bytes each, so the
 * column sums to a little more than the bundle). A page is named by its row, e.g.
 * `--why 'throttleTokenBucket + dropOnFull + drain'`.
 *
 *   npm run size
 *   npx tsx bench/size.ts --why dropOnFull
 */
import { build } from 'esbuild';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants, createDeflateRaw, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const indexFile = join(root, 'src', 'index.ts');
const KB = 1024;

/** Budgets in bytes of min+gzip, and the issue that set each. */
const BUDGETS: Record<string, { bytes: number; issue: number }> = {
  bufferBounded: { bytes: 2.5 * KB, issue: 19 },
  dropOnFull: { bytes: 2.5 * KB, issue: 19 },
  shedByPriority: { bytes: 2.5 * KB, issue: 19 },
  adaptiveBuffer: { bytes: 2.5 * KB, issue: 19 },
  latestPerFrame: { bytes: 2.5 * KB, issue: 19 },
  throttleTokenBucket: { bytes: 2.5 * KB, issue: 19 },
  circuitBreak: { bytes: 3 * KB, issue: 19 },
  CircuitBreaker: { bytes: 3 * KB, issue: 19 },
  'throttleTokenBucket + dropOnFull + drain': { bytes: 4.5 * KB, issue: 19 },
  pull: { bytes: 2 * KB, issue: 8 },
  Demand: { bytes: 2 * KB, issue: 8 },
  '(whole main entry)': { bytes: 8 * KB, issue: 8 },
};

/**
 * Bytes of min+gzip at the start of the day (commit cfe1e9f, before the restructuring of issue 16 and the features of
 * issues 17 to 19), measured by this script's method on that commit's src/index.ts. throttleTokenBucket then bundled
 * its store path too; memoryTokenBucketStore did not yet carry the store's runner.
 */
const START_OF_DAY: Record<string, number> = {
  adaptiveBuffer: 4428,
  BackpressureError: 181,
  bufferBounded: 3450,
  BufferOverflowError: 217,
  CallTimeoutError: 215,
  circuitBreak: 4386,
  CircuitBreaker: 3403,
  CircuitOpenError: 217,
  Demand: 1409,
  DROP_REASONS: 112,
  dropOnFull: 3634,
  isBackpressureError: 237,
  isBufferOverflowError: 248,
  isCallTimeoutError: 246,
  isCircuitOpenError: 244,
  isRateLimitExceededError: 251,
  memoryTokenBucketStore: 464,
  pull: 1212,
  QueueMetrics: 2231,
  RateLimitExceededError: 223,
  retryAfter: 1953,
  shedByPriority: 3748,
  throttleTokenBucket: 4014,
  '(whole main entry)': 14603,
  'rxjs-backpressure/prometheus': 1716,
};

/** Pages: exports imported together. */
const PAGES: string[][] = [['throttleTokenBucket', 'dropOnFull', 'drain']];

export interface SizeRow {
  export: string;
  /** What was bundled (the entry's source). */
  contents: string;
  from: string;
  minified: number;
  gzip: number;
  budget: number | undefined;
  issue: number | undefined;
  startOfDay: number | undefined;
  inputs: Record<string, number>;
}

async function measure(name: string, from: string, contents: string): Promise<SizeRow> {
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
    contents,
    from,
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    budget: BUDGETS[name]?.bytes,
    issue: BUDGETS[name]?.issue,
    startOfDay: START_OF_DAY[name],
    inputs,
  };
}

/** Decodes one segment of a source map's `mappings` (base64 VLQ). */
function vlq(segment: string): number[] {
  const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of segment) {
    const d = digits.indexOf(c);
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >> 1) : value >> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** The gzip bytes each input file costs in `row`'s bundle, in context (see the header). */
async function gzipInContext(row: SizeRow): Promise<Record<string, number>> {
  const result = await build({
    stdin: { contents: row.contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    treeShaking: true,
    external: ['rxjs', 'rxjs/*', 'prom-client', 'ioredis'],
    write: false,
    sourcemap: 'external',
    outfile: join(root, 'size-why.js'),
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!.contents;
  const map = JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.map'))!.text) as {
    sources: string[];
    mappings: string;
  };
  // where each line starts, in bytes (the mappings count columns in UTF-16 units; the bundle is ASCII but for a few
  // characters in strings, so byte offsets are close enough for an estimate)
  const lineStarts = [0];
  code.forEach((byte, i) => {
    if (byte === 10) lineStarts.push(i + 1);
  });
  const runs: { at: number; source: number }[] = [];
  let source = 0;
  map.mappings.split(';').forEach((line, index) => {
    let column = 0;
    for (const segment of line === '' ? [] : line.split(',')) {
      const fields = vlq(segment);
      column += fields[0]!;
      if (fields.length > 1) source += fields[1]!;
      if (runs.length === 0 || runs[runs.length - 1]!.source !== source) {
        runs.push({ at: lineStarts[index]! + column, source });
      }
    }
  });
  const deflate = createDeflateRaw({ level: 9 });
  let produced = 0;
  deflate.on('data', (chunk: Buffer) => (produced += chunk.byteLength));
  const cost: Record<string, number> = {};
  const feed = async (bytes: Uint8Array, file: string): Promise<void> => {
    const before = produced;
    deflate.write(bytes);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    cost[file] = (cost[file] ?? 0) + produced - before;
  };
  if (runs.length === 0 || runs[0]!.at > 0) await feed(code.subarray(0, runs[0]?.at ?? code.byteLength), '(glue)');
  for (let i = 0; i < runs.length; i++) {
    const end = i + 1 < runs.length ? runs[i + 1]!.at : code.byteLength;
    const file = relative(root, join(dirname(join(root, 'size-why.js')), map.sources[runs[i]!.source]!));
    await feed(code.subarray(runs[i]!.at, end), file);
  }
  deflate.end();
  return cost;
}

const spec = (file: string): string => JSON.stringify(file.split('\\').join('/'));

export async function sizes(): Promise<SizeRow[]> {
  const index = (await import(pathToFileURL(indexFile).href)) as Record<string, unknown>;
  const names = Object.keys(index).sort((a, b) => a.localeCompare(b));
  const rows: SizeRow[] = [];
  for (const name of names) {
    rows.push(await measure(name, 'src/index.ts', `export { ${name} } from ${spec(indexFile)};`));
  }
  for (const page of PAGES) {
    const missing = page.filter((name) => !names.includes(name));
    if (missing.length > 0) throw new Error(`size: page ${page.join(' + ')}: no export ${missing.join(', ')}`);
    rows.push(await measure(page.join(' + '), 'page', `export { ${page.join(', ')} } from ${spec(indexFile)};`));
  }
  rows.push(await measure('(whole main entry)', 'src/index.ts', `export * from ${spec(indexFile)};`));
  const prometheus = join(root, 'src', 'prometheus', 'index.ts');
  rows.push(
    await measure(
      'rxjs-backpressure/prometheus',
      'src/prometheus/index.ts (prom-client external)',
      `export * from ${spec(prometheus)};`,
    ),
  );
  return rows;
}

const kb = (bytes: number): string => `${(bytes / KB).toFixed(2)} KB`;
const signed = (bytes: number): string => (bytes > 0 ? `+${bytes} B` : bytes < 0 ? `${bytes} B` : '0 B');

async function main(): Promise<void> {
  const why = process.argv.indexOf('--why');
  const rows = await sizes();
  console.table(
    rows.map((r) => ({
      export: r.export,
      min: kb(r.minified),
      'min+gzip': kb(r.gzip),
      'start of day': r.startOfDay === undefined ? '' : kb(r.startOfDay),
      'vs start': r.startOfDay === undefined ? '' : signed(r.gzip - r.startOfDay),
      budget: r.budget === undefined ? '' : `${kb(r.budget)} (#${r.issue})`,
      status:
        r.budget === undefined
          ? ''
          : r.gzip <= r.budget
            ? `met, ${r.budget - r.gzip} B under`
            : `OVER by ${r.gzip - r.budget} B (${(((r.gzip - r.budget) / r.budget) * 100).toFixed(0)}%)`,
    })),
  );
  if (why >= 0) {
    const name = process.argv[why + 1];
    const row = rows.find((r) => r.export === name);
    if (!row) throw new Error(`--why: no export or page named ${String(name)}`);
    const gzip = await gzipInContext(row);
    console.log(`\nmodules in ${row.export} (minified bytes each, and gzip bytes in context):`);
    console.table(
      Object.entries(row.inputs)
        .sort((a, b) => b[1] - a[1])
        .map(([file, bytes]) => ({ file, minified: bytes, 'gzip in context': gzip[file] ?? '' })),
    );
  }
  const worse = rows.filter((r) => r.startOfDay !== undefined && r.gzip > r.startOfDay);
  if (worse.length > 0) {
    console.error(`size: worse than the start of the day: ${worse.map((r) => r.export).join(', ')}`);
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
