import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The page's build; serve.ts's buildPage() adds where 'rxjs-backpressure' comes from: the package built as it ships. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: { target: 'es2022' }, // outDir: given by serve.ts (buildPage)
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
