import { defineConfig } from 'vitest/config';

export default defineConfig({
  // 'rxjs-backpressure' and its subpaths resolve as tsconfig.json's paths say (to src/), as they do for tsc and tsx:
  // the examples and the testing entry import the package by name.
  resolve: { tsconfigPaths: true },
  test: {
    include: ['spec/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    coverage: { include: ['src/**'], reporter: ['text-summary'] },
  },
});
