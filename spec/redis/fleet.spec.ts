/**
 * The fleet: three worker processes read one stream of 10^4 entries through fromRedisStream + drain, against a real
 * redis-server; one is SIGKILLed mid-run. While they run, XPENDING is sampled per consumer: no worker ever holds more
 * than its drain's concurrency (its credit plus what its drain runs). At the end every entry has been worked on and
 * acknowledged at least once, the group's pending list is empty, and the killed worker's entries were claimed by the
 * living ones.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/binaries.js';
import { startRedis } from './redisServer.js';
import type { RedisServer } from './redisServer.js';
import type { StreamWorkerConfig, StreamWorkerMessage } from './streamWorker.js';

const WORKER = fileURLToPath(new URL('./streamWorker.ts', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../node_modules/.cache/rxjs-backpressure-spec/', import.meta.url));
const WORKER_BUNDLE = `${ARTIFACTS}stream-worker.mjs`;

const ENTRIES = 10_000;
const CONCURRENCY = [4, 6, 8];
const KILLED = 1;
const KILL_AFTER = 3_000; // entries worked on by the fleet
const CLAIM_IDLE = 400;

const REDIS_SERVER = requireBinary('redis-server');
let server: RedisServer;
let admin: Redis;

beforeAll(async () => {
  if (REDIS_SERVER === undefined) return; // skipped: requireBinary said what to install
  server = await startRedis(REDIS_SERVER);
  admin = new Redis({ host: '127.0.0.1', port: server.port });
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
  admin?.disconnect();
  await server?.stop();
});

async function pendingPerConsumer(stream: string, group: string): Promise<Record<string, number>> {
  const reply = (await admin.xpending(stream, group)) as [number, unknown, unknown, [string, string][] | null];
  return Object.fromEntries((reply[3] ?? []).map(([name, count]) => [name, Number(count)]));
}

function start(config: StreamWorkerConfig): { child: ChildProcess; ready: Promise<void>; report: Promise<unknown> } {
  const child = fork(WORKER_BUNDLE, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: StreamWorkerMessage) => m.kind === 'ready' && resolve());
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${String(code)}, ${String(signal)})`)));
  });
  const report = new Promise<StreamWorkerMessage>((resolve) => {
    child.on('message', (m: StreamWorkerMessage) => m.kind === 'done' && resolve(m));
  });
  return { child, ready, report };
}

describe.skipIf(REDIS_SERVER === undefined)(
  'fromRedisStream: a fleet of three worker processes, one SIGKILLed mid-run',
  () => {
    it(`works off ${ENTRIES} entries with every entry acknowledged and no worker above its bound`, async () => {
      const stream = 'fleet:jobs';
      const group = 'fleet';
      const done = 'fleet:done';
      for (let i = 0; i < ENTRIES; i += 1000) {
        const pipeline = admin.pipeline();
        for (let n = i; n < i + 1000; n++) pipeline.xadd(stream, '*', 'n', String(n));
        await pipeline.exec();
      }
      const consumers = CONCURRENCY.map((_, i) => `worker-${i}`);
      const workers = CONCURRENCY.map((concurrency, i) =>
        start({ port: server.port, stream, group, consumer: consumers[i]!, concurrency, claimIdle: CLAIM_IDLE, done }),
      );
      await Promise.all(workers.map((w) => w.ready));

      const maxPending: Record<string, number> = Object.fromEntries(consumers.map((c) => [c, 0]));
      let samples = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          try {
            const pending = await pendingPerConsumer(stream, group);
            samples++;
            for (const [name, count] of Object.entries(pending))
              maxPending[name] = Math.max(maxPending[name] ?? 0, count);
          } catch {
            // the group is created by the first worker to start
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();

      const worked = async (): Promise<number> => Number(await admin.hlen(done));
      const deadline = Date.now() + 60_000;
      while ((await worked()) < KILL_AFTER) {
        if (Date.now() > deadline) throw new Error('the fleet made no progress');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // The worker to kill hangs first (its work stops ending), so it dies holding entries however fast the work is:
      // a kill between two reads would otherwise find it holding none.
      workers[KILLED]!.child.send('hang');
      while (((await pendingPerConsumer(stream, group))[consumers[KILLED]!] ?? 0) === 0) {
        if (Date.now() > deadline) throw new Error('the worker to kill never held an entry');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const exited = new Promise((resolve) => workers[KILLED]!.child.once('exit', resolve));
      workers[KILLED]!.child.kill('SIGKILL');
      const killedAt = await worked();
      await exited;
      const pendingOfKilled = (await pendingPerConsumer(stream, group))[consumers[KILLED]!] ?? 0;

      // the living two finish, claiming what the killed one held
      while ((await worked()) < ENTRIES || Object.values(await pendingPerConsumer(stream, group)).some((n) => n > 0)) {
        if (Date.now() > deadline) throw new Error(`stuck at ${await worked()} of ${ENTRIES}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      sampling = false;
      await sampler;
      const living = workers.filter((_, i) => i !== KILLED);
      for (const w of living) w.child.send('stop');
      const reports = (await Promise.all(living.map((w) => w.report))) as Extract<
        StreamWorkerMessage,
        { kind: 'done' }
      >[];

      const counts = Object.values(await admin.hgetall(done)).map(Number);
      const groups = (await admin.xinfo('GROUPS', stream)) as unknown[][];
      const info = Object.fromEntries(
        (groups[0] as unknown[]).reduce<[string, unknown][]>(
          (pairs, v, i, all) => (i % 2 === 0 ? [...pairs, [String(v), all[i + 1]]] : pairs),
          [],
        ),
      );
      const figures = {
        entries: ENTRIES,
        workedOn: counts.reduce((a, b) => a + b, 0),
        distinct: counts.length,
        workedTwice: counts.filter((n) => n > 1).length,
        killedAfter: killedAt,
        pendingOfKilledAtKill: pendingOfKilled,
        redeliveredToLiving: reports.map((r) => r.redelivered),
        maxDeliveries: Math.max(...reports.map((r) => r.maxDeliveries)),
        maxPending,
        bound: Object.fromEntries(consumers.map((c, i) => [c, CONCURRENCY[i]])),
        samples,
        groupPending: info['pending'],
        entriesRead: info['entries-read'],
        lag: info['lag'],
      };
      writeFileSync(`${ARTIFACTS}redis-fleet.json`, JSON.stringify(figures, null, 2));
      console.log('fleet:', JSON.stringify(figures));

      expect(reports.flatMap((r) => r.errors)).toEqual([]);
      // every entry worked on at least once, and acknowledged: nothing pending, every entry read by the group
      expect(figures.distinct).toBe(ENTRIES);
      expect(counts.every((n) => n >= 1)).toBe(true);
      expect(figures.groupPending).toBe(0);
      expect(figures.entriesRead).toBe(ENTRIES);
      expect(figures.lag).toBe(0);
      // the killed worker held entries when it died, and the living ones took them over
      expect(pendingOfKilled).toBeGreaterThan(0);
      expect(reports.reduce((sum, r) => sum + r.redelivered, 0)).toBeGreaterThanOrEqual(pendingOfKilled);
      // at-least-once, not at-most-many: only what the killed worker held can have been worked on twice
      expect(figures.workedTwice).toBeLessThanOrEqual(pendingOfKilled);
      // bounded in every process, at every sample
      expect(samples).toBeGreaterThan(50);
      consumers.forEach((c, i) => {
        expect(maxPending[c], c).toBeGreaterThan(0);
        expect(maxPending[c], c).toBeLessThanOrEqual(CONCURRENCY[i]!);
      });
    }, 90_000);
  },
);
