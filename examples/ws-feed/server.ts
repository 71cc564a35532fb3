/**
 * A live feed over a WebSocket with demand end to end: the Node server streams from `pull(generator)` through
 * `serveStreams`, and the browser page (page.ts) renders one value per animation frame through `requestStream` and a
 * drain, so a slow or backgrounded tab slows the generator on the server instead of filling its memory.
 *
 *   npm run build && npm run example:ws-feed      (then open http://127.0.0.1:8080; the server logs a line a second)
 *
 * The page is bundled with esbuild from the built package (dist/, as users get it). `startFeedServer()` is exported
 * for the browser test, which starts it on a free port.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { WebSocketServer } from 'ws';
import { serveStreams } from 'rxjs-backpressure/ws';
import { feed, stats } from './feed.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

/** Bundles page.ts with 'rxjs-backpressure' resolved to the built package (dist/), never to src/. */
export async function bundlePage(): Promise<string> {
  for (const file of ['index.js', 'ws.js']) {
    if (!existsSync(dist + file)) throw new Error(`dist/${file} is missing: run npm run build first`);
  }
  const result = await build({
    entryPoints: [`${here}page.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    logLevel: 'error',
    alias: { 'rxjs-backpressure/ws': `${dist}ws.js`, 'rxjs-backpressure': `${dist}index.js` },
  });
  return result.outputFiles[0]!.text;
}

export interface FeedServer {
  url: string;
  close(): Promise<void>;
}

export async function startFeedServer(port = 8080, log = true): Promise<FeedServer> {
  const [html, script] = await Promise.all([readFile(`${here}index.html`, 'utf8'), bundlePage()]);
  const http = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/') response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    else if (path === '/page.js') response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    else if (path === '/stats')
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(stats));
    else response.writeHead(404).end();
  });
  const sockets = new WebSocketServer({ server: http, path: '/feed' });
  sockets.on('connection', (socket) => serveStreams(socket, () => feed()));
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  let last = stats.produced;
  const ticker = setInterval(() => {
    if (log)
      console.log(`produced ${stats.produced - last}/s, ${stats.produced} in all, ${sockets.clients.size} client(s)`);
    last = stats.produced;
  }, 1000);
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`,
    async close() {
      clearInterval(ticker);
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const portArg = process.argv.indexOf('--port');
  const server = await startFeedServer(portArg > 0 ? Number(process.argv[portArg + 1]) : 8080);
  console.log(`ws-feed: open ${server.url} (the server logs what it produces each second)`);
}
