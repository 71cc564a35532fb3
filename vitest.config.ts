import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    // Type tests: spec/**/*.test-d.ts, checked by tsc with exactOptionalPropertyTypes on (tsconfig.typecheck.json).
    typecheck: { enabled: true, include: ['spec/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
    coverage: { include: ['src/**'], reporter: ['text-summary'] },
  },
});
