/* global URL */
/**
 * Module hooks that compile src/**\/*.ts the way the published build does (tsup: esbuild, target es2020, no
 * keepNames), for `npm run bench` (registered by bench/index.ts before any benchmark is loaded).
 *
 * Without them src/ would run as tsx compiles it, with `keepNames`: every closure created at run time is wrapped in
 * `__name(fn, "name")`, an Object.defineProperty per closure that the shipped dist/ never pays. Code that creates
 * closures per value (demand.drain creates an inner subscriber per value) measured 5 to 30 times slower that way.
 * Dependencies (rxjs, opossum, ...) are plain JavaScript and are not touched.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const src = new URL('../src/', import.meta.url).pathname;

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url.split('?')[0]);
    if (path.startsWith(src) && path.endsWith('.ts')) {
      const code = await readFile(path, 'utf8');
      const out = await transform(code, {
        loader: 'ts',
        format: 'esm',
        target: 'es2020',
        keepNames: false,
        sourcefile: path,
        sourcemap: 'inline',
      });
      return { format: 'module', source: out.code, shortCircuit: true };
    }
  }
  return nextLoad(url, context);
}
