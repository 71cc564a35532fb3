import { defineConfig } from 'vitest/config';

export default defineConfig({
  // 'rxjs-backpressure' and its subpaths resolve as tsconfig.json's paths say (to src/), as they do for tsc and tsx:
  // the examples and the testing entry import the package by name.
  resolve: { tsconfigPaths: true },
  test: {
    include: ['spec/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    // Type tests: spec/**/*.test-d.ts, checked by tsc with exactOptionalPropertyTypes on (tsconfig.typecheck.json).
    typecheck: { enabled: true, include: ['spec/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
    coverage: { include: ['src/**'], reporter: ['text-summary'] },
  },
});
