import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { throttleTokenBucket } from '../../src/operators/throttleTokenBucket.js';
import type { TokenRequest } from '../../src/rate/protocol.js';
import { redisTokenBucketStore } from '../../src/redis/index.js';
import type { StoreErrorPolicy } from '../../src/redis/index.js';
import { requireBinary } from '../helpers/binaries.js';
import { startRedis } from './redisServer.js';
import type { RedisServer } from './redisServer.js';
import type { WorkerConfig, WorkerMessage } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/**
 * Measured figures (redis-*.json) and the bundled worker go under node_modules/.cache: out of git, lint and prettier,
 * and the bundle still resolves ioredis and rxjs from node_modules.
 */
const ARTIFACTS = fileURLToPath(new URL('../../node_modules/.cache/rxjs-backpressure-spec/', import.meta.url));
/** The worker, bundled once with esbuild (packages stay external): starting a process then costs no compile. */
const WORKER_BUNDLE = `${ARTIFACTS}worker.mjs`;

/** Runs one process per config against the server, starts them together, and returns their reports. */
async function runWorkers(configs: WorkerConfig[]): Promise<Extract<WorkerMessage, { kind: 'done' }>[]> {
  const children = configs.map((config) =>
    fork(WORKER_BUNDLE, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const reports = children.map(
    (child) =>
      new Promise<Extract<WorkerMessage, { kind: 'done' }>>((resolve, reject) => {
        child.on('message', (message: WorkerMessage) => {
          if (message.kind === 'done') resolve(message);
        });
        child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)} before reporting`)));
      }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) =>
          child.on('message', (message: WorkerMessage) => {
            if (message.kind === 'ready') resolve();
          }),
        ),
    ),
  );
  for (const child of children) child.send('go');
  return Promise.all(reports);
}

interface Measure {
  /** Tokens granted to all processes together. */
  granted: number;
  /** ms from the first request sent to the last reply received (every grant happened inside it, on the one host). */
  window: number;
  bound: number;
  /**
   * Over every interval [sent_i, received_j]: the grants made wholly inside it minus burst + rate * its length.
   * Redis made those grants within the interval, so within the limit this is at most 0; no slack is needed.
   */
  worstExcess: number;
  /** The same figures by emission times alone (taken after each reply: an interval can look shorter than it was). */
  observed: { emitted: number; window: number; bound: number };
}

function measure(reports: { times: number[]; grants: [number, number][] }[], sliding = true): Measure {
  const { rate, per, burst } = bucket;
  const grants = reports.flatMap((r) => r.grants).sort((a, b) => a[0] - b[0]);
  const first = grants[0]?.[0] ?? 0;
  const last = Math.max(...grants.map((g) => g[1]));
  const window = last - first;
  let worstExcess = -Infinity;
  if (sliding) {
    const ends = [...new Set(grants.map((g) => g[1]))].sort((a, b) => a - b);
    for (let i = 0; i < grants.length; i++) {
      const from = grants[i]![0];
      for (const to of ends) {
        if (to < from) continue;
        let inside = 0;
        for (let k = i; k < grants.length; k++) if (grants[k]![1] <= to) inside++;
        const excess = inside - (burst + (rate * (to - from)) / per);
        if (excess > worstExcess) worstExcess = excess;
      }
    }
  }
  const times = reports.flatMap((r) => r.times).sort((a, b) => a - b);
  const observedWindow = times.length === 0 ? 0 : times[times.length - 1]! - times[0]!;
  return {
    granted: grants.length,
    window,
    bound: burst + (rate * window) / per,
    worstExcess,
    observed: { emitted: times.length, window: observedWindow, bound: burst + (rate * observedWindow) / per },
  };
}

function record(name: string, facts: object): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(`${ARTIFACTS}redis-${name}.json`, JSON.stringify(facts, null, 2));
}

const bucket = { rate: 50, per: 1000, burst: 10 };
const WINDOW = 2000;
const PROCESSES = 4;

const REDIS_SERVER = requireBinary('redis-server');

describe.skipIf(REDIS_SERVER === undefined)('redisTokenBucketStore (integration: a redis-server of its own)', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedis(REDIS_SERVER!);
    mkdirSync(ARTIFACTS, { recursive: true });
    await build({
      entryPoints: [WORKER],
      outfile: WORKER_BUNDLE,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node18',
      packages: 'external',
      logLevel: 'error',
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const configs = (key: string, shared: boolean, skew: (i: number) => number): WorkerConfig[] =>
    Array.from({ length: PROCESSES }, (_, i) => ({
      port: server.port,
      key,
      ...bucket,
      window: WINDOW,
      skew: skew(i),
      shared,
    }));

  it(`keeps ${PROCESSES} processes together within burst + rate * window`, async () => {
    const reports = await runWorkers(configs('it:shared', true, () => 0));
    const m = measure(reports);
    record('shared', {
      processes: PROCESSES,
      ...bucket,
      ...m,
      perProcess: reports.map((r) => r.times.length),
      offered: reports.map((r) => r.offered),
    });
    expect(m.granted).toBeLessThanOrEqual(m.bound);
    expect(m.worstExcess).toBeLessThanOrEqual(0);
    expect(m.observed.emitted).toBe(m.granted);
    // and the limit is used, not starved: at least half of what one bucket allows over the window
    expect(m.granted).toBeGreaterThanOrEqual(bucket.burst + (bucket.rate * WINDOW) / bucket.per / 2);
  }, 60_000);

  it('is not fooled by a client whose clock runs 5 s ahead', async () => {
    const reports = await runWorkers(configs('it:skewed', true, (i) => (i === 0 ? 5000 : 0)));
    expect(Math.round(reports[0]!.skewedNow / 1000)).toBe(5); // the first process really was skewed
    const m = measure(reports);
    record('skewed', {
      processes: PROCESSES,
      skew: [5000, 0, 0, 0],
      ...bucket,
      ...m,
      perProcess: reports.map((r) => r.times.length),
    });
    expect(m.granted).toBeLessThanOrEqual(m.bound);
    expect(m.worstExcess).toBeLessThanOrEqual(0);
  }, 60_000);

  it('control: buckets kept per process exceed the bound (so the check above can fail)', async () => {
    const reports = await runWorkers(configs('it:control', false, () => 0));
    const m = measure(reports, false);
    record('control', { processes: PROCESSES, ...bucket, ...m });
    expect(m.granted).toBeGreaterThan(2 * m.bound);
  }, 60_000);

  it('runs one atomic script per acquisition and expires the key once the bucket would be full', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: server.port });
    try {
      const store = redisTokenBucketStore(redis, { key: 'it:expiry' });
      const request: TokenRequest = { tokens: 1, rate: 1, per: 1000, burst: 2, now: 0 };
      expect(await store.take(request)).toEqual({ granted: true });
      const ttl = await redis.pttl('it:expiry');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1001); // one token short: full again in 1000 ms
      expect(await store.take(request)).toEqual({ granted: true });
      const refused = await store.take(request);
      expect(refused.granted).toBe(false);
      expect(refused.granted === false && refused.retryAfter > 0 && refused.retryAfter <= 1000).toBe(true);
      expect(await redis.pttl('it:expiry')).toBeLessThanOrEqual(2001);

      // a fast bucket is full again within ms: its key is gone soon after
      const fast = redisTokenBucketStore(redis, { key: 'it:fast' });
      expect(await fast.take({ tokens: 1, rate: 1000, per: 1000, burst: 1, now: 0 })).toEqual({ granted: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await redis.exists('it:fast')).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('loads the script again after the server forgot it (SCRIPT FLUSH, restart)', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: server.port });
    try {
      const store = redisTokenBucketStore(redis, { key: 'it:flush' });
      const request: TokenRequest = { tokens: 1, rate: 1, per: 1000, burst: 5, now: 0 };
      expect(await store.take(request)).toEqual({ granted: true });
      await redis.script('FLUSH');
      expect(await store.take(request)).toEqual({ granted: true });
      expect(Number(await redis.hget('it:flush', 'level'))).toBeLessThan(3.1);
    } finally {
      redis.disconnect();
    }
  });

  it("keeps one bucket per key under its prefix (throttleTokenBucket's key option)", async () => {
    const redis = new Redis({ host: '127.0.0.1', port: server.port });
    try {
      const store = redisTokenBucketStore(redis, { key: 'it:tenant' });
      const drops: string[] = [];
      // burst 2 per tenant, one token a minute: acme's flood takes acme's two tokens and no one else's
      const values = ['acme-1', 'acme-2', 'acme-3', 'acme-4', 'initech-1', 'acme-5', 'initech-2', 'initech-3'];
      const emitted = await lastValueFrom(
        from(values).pipe(
          throttleTokenBucket({
            rate: 1,
            per: 60_000,
            burst: 2,
            mode: 'drop',
            key: (v) => v.split('-')[0]!,
            store,
            onDrop: (d) => drops.push(d.value),
          }),
          toArray(),
        ),
      );
      // each key asks in its own line, so the lines interleave: compare as sets, and each key's order
      expect([...emitted].sort()).toEqual(['acme-1', 'acme-2', 'initech-1', 'initech-2']);
      expect([...drops].sort()).toEqual(['acme-3', 'acme-4', 'acme-5', 'initech-3']);
      expect(emitted.filter((v) => v.startsWith('acme'))).toEqual(['acme-1', 'acme-2']);
      expect((await redis.keys('it:tenant*')).sort()).toEqual(['it:tenant:acme', 'it:tenant:initech']);
      expect(Number(await redis.hget('it:tenant:acme', 'level'))).toBeLessThan(0.01);
      // a second subscription (another process, in production) shares the tenants' buckets
      const again = await lastValueFrom(
        from(['initech-4', 'globex-1']).pipe(
          throttleTokenBucket({ rate: 1, per: 60_000, burst: 2, mode: 'drop', key: (v) => v.split('-')[0]!, store }),
          toArray(),
        ),
      );
      expect(again).toEqual(['globex-1']);
    } finally {
      redis.disconnect();
    }
  });

  describe('onStoreError, with Redis stopped', () => {
    const request: TokenRequest = { tokens: 1, rate: 2, per: 1000, burst: 3, now: 0 };

    async function stoppedRedis(): Promise<Redis> {
      const own = await startRedis(REDIS_SERVER!);
      const redis = new Redis({
        host: '127.0.0.1',
        port: own.port,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      await new Promise((resolve) => redis.once('ready', resolve));
      const ended = new Promise((resolve) => redis.once('end', resolve));
      await own.stop();
      await ended;
      return redis;
    }

    it("'fail-open' grants, 'fail-closed' refuses for one token's time, 'local' keeps a bucket of its own", async () => {
      const redis = await stoppedRedis();
      const open = redisTokenBucketStore(redis, { key: 'k', onStoreError: 'fail-open' });
      const closed = redisTokenBucketStore(redis, { key: 'k', onStoreError: 'fail-closed' });
      const local = redisTokenBucketStore(redis, { key: 'k', onStoreError: 'local' });
      const byDefault = redisTokenBucketStore(redis, { key: 'k' });
      const five = async (store: { take(r: TokenRequest): unknown }): Promise<unknown[]> => {
        const answers: unknown[] = [];
        for (let i = 0; i < 5; i++) answers.push(await store.take(request));
        return answers;
      };
      const granted = { granted: true };
      const refused = { granted: false, retryAfter: 500 };
      expect(await five(open)).toEqual([granted, granted, granted, granted, granted]);
      expect(await five(closed)).toEqual([refused, refused, refused, refused, refused]);
      expect(await five(local)).toEqual([granted, granted, granted, refused, refused]);
      expect(await five(byDefault)).toEqual([granted, granted, granted, refused, refused]);
    });

    it('a function policy is told the error and the request', async () => {
      const redis = await stoppedRedis();
      const seen: [string, TokenRequest][] = [];
      const policy: StoreErrorPolicy = (error, r) => {
        seen.push([(error as Error).message, r]);
        return { granted: false, retryAfter: 42 };
      };
      const store = redisTokenBucketStore(redis, { key: 'k', onStoreError: policy });
      expect(await store.take(request)).toEqual({ granted: false, retryAfter: 42 });
      expect(seen).toHaveLength(1);
      expect(seen[0]![1]).toBe(request);
      expect(seen[0]![0]).toMatch(/closed|writeable/i);
    });

    it('through the operator: the local fallback lets the burst through and drops the rest', async () => {
      const redis = await stoppedRedis();
      const store = redisTokenBucketStore(redis, { key: 'k', onStoreError: 'local' });
      const drops: string[] = [];
      const values = await lastValueFrom(
        from([1, 2, 3, 4, 5]).pipe(
          throttleTokenBucket({
            rate: 2,
            burst: 3,
            mode: 'drop',
            store,
            onDrop: (d) => drops.push(`${d.value}:${d.reason}`),
          }),
          toArray(),
        ),
      );
      expect(values).toEqual([1, 2, 3]);
      expect(drops).toEqual(['4:rate', '5:rate']);
    });

    it('a client that keeps queueing while it reconnects is answered by the policy after timeout', async () => {
      const own = await startRedis(REDIS_SERVER!);
      const port = own.port;
      await own.stop();
      const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 50 });
      redis.on('error', () => undefined);
      void redis.connect().catch(() => undefined);
      try {
        const store = redisTokenBucketStore(redis, { key: 'k', onStoreError: 'fail-open', timeout: 100 });
        expect(await store.take(request)).toEqual({ granted: true });
      } finally {
        redis.disconnect();
      }
    });
  });

  it('validates its arguments at the call', () => {
    const redis = new Redis({ lazyConnect: true });
    expect(() => redisTokenBucketStore({} as Redis, { key: 'k' })).toThrow(
      new TypeError(
        'redisTokenBucketStore: redis must be an ioredis client (with evalsha() and script()), got an object',
      ),
    );
    expect(() => redisTokenBucketStore(redis, { key: '' })).toThrow(
      new RangeError('redisTokenBucketStore: key must be a non-empty string, got ""'),
    );
    expect(() => redisTokenBucketStore(redis, { key: 1 as unknown as string })).toThrow(TypeError);
    expect(() => redisTokenBucketStore(redis, { key: 'k', onStoreError: 'open' as 'fail-open' })).toThrow(
      new TypeError(
        "redisTokenBucketStore: onStoreError must be one of 'fail-open', 'fail-closed', 'local', got \"open\"",
      ),
    );
    expect(() => redisTokenBucketStore(redis, { key: 'k', timeout: 0 })).toThrow(
      new RangeError('redisTokenBucketStore: timeout must be a positive finite number, got 0'),
    );
    expect(() => redisTokenBucketStore(redis, { key: 'k', scheduler: {} as never })).toThrow(TypeError);
    expect(() => redisTokenBucketStore(redis, { key: 'k', ttl: 5 } as never)).toThrow(/unknown option "ttl"/);
    redis.disconnect();
  });
});
