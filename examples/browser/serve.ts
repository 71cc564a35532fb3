/**
 * Builds the browser example with Vite's JS API and serves the built page on 127.0.0.1.
 *
 *   npm run example:browser [-- --port 5173]
 *
 * The page imports 'rxjs-backpressure' as a user's page would, and gets the package as it ships: `buildPage()` first
 * builds it with tsup (tsup.config.ts, without the .d.ts files) into a folder of its own, with its package.json, and
 * Vite resolves the import through that package's `exports`. So the browser test exercises dist/, not src/.
 *
 * `buildPage()` and `servePage()` are exported for the browser test, which builds into a temporary directory and
 * serves it on a free port.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/**
 * Where `npm run example:browser` builds to: under node_modules/.cache, which git, eslint and prettier all ignore (a
 * dist/ beside the sources would be linted).
 */
const DEFAULT_OUT_DIR = join(here, '..', '..', 'node_modules', '.cache', 'rxjs-backpressure-browser-example');

/** Builds the package as it ships into `dir` (`dir`/package.json and `dir`/dist/) and returns `dir`. */
export function buildPackage(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const tsup = join(repo, 'node_modules', 'tsup', 'dist', 'cli-default.js');
  execFileSync(process.execPath, [tsup, '--no-dts', '--silent', '--out-dir', join(dir, 'dist')], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  copyFileSync(join(repo, 'package.json'), join(dir, 'package.json'));
  return dir;
}

/** Builds the package into `outDir`/package, then the page into `outDir`/page, and returns the page's directory. */
export async function buildPage(outDir = DEFAULT_OUT_DIR): Promise<string> {
  const pkg = buildPackage(join(outDir, 'package'));
  const page = join(outDir, 'page');
  await build({
    configFile: join(here, 'vite.config.ts'),
    // the built package, resolved through its package.json; rxjs is the page's own (one copy, as a user gets)
    resolve: { alias: { 'rxjs-backpressure': pkg }, dedupe: ['rxjs'] },
    build: { outDir: page, emptyOutDir: true },
  });
  return page;
}

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the files of `dir` on 127.0.0.1:`port` (0 picks a free port); `/` is index.html. */
export async function servePage(dir: string, port = 5173): Promise<PageServer> {
  const root = normalize(dir + sep);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = normalize(join(root, path === '/' ? 'index.html' : decodeURIComponent(path)));
    if (!file.startsWith(root) || request.method !== 'GET') {
      response.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => {
        response.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
        response.end(body);
      },
      () => response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--port');
  const port = at < 0 ? 5173 : Number(process.argv[at + 1]);
  if (!Number.isInteger(port) || port < 0) throw new RangeError('--port must be a non-negative integer');
  const dir = await buildPage();
  const server = await servePage(dir, port);
  console.log(`serving the browser example on ${server.url} (Ctrl-C to stop)`);
  process.once('SIGINT', () => void server.close());
}
