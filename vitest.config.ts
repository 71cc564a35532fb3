import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    coverage: { include: ['src/**'], reporter: ['text-summary'] },
  },
});
