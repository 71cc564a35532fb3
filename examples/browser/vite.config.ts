import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Builds the page from the library's source: 'rxjs-backpressure' resolves to src/index.ts, not to dist/. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  resolve: {
    alias: { 'rxjs-backpressure': fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
  },
  build: { target: 'es2022' }, // outDir: given by serve.ts (buildPage)
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
