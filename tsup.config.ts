import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    prometheus: 'src/prometheus/index.ts',
    redis: 'src/redis/index.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2020',
  tsconfig: 'tsconfig.build.json',
  external: ['rxjs', 'prom-client', 'ioredis', 'fast-check'],
});
