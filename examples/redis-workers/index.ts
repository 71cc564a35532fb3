/**
 * A worker fleet on a Redis stream, bounded in every process: a producer adds 10^4 jobs, three worker processes take
 * them through `fromRedisStream` + `drain` (at most 4 jobs each, pending included), and one worker is killed (SIGKILL)
 * mid-run. The jobs it held stay pending in the group until the living workers claim them (XAUTOCLAIM after 1 s idle),
 * so every job is done at least once and none is lost. A line a second shows progress and each worker's pending count.
 *
 *   npm run example:redis-workers          (starts a redis-server of its own; or set REDIS_URL)
 */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const JOBS = 10_000;
const WORKERS = ['worker-1', 'worker-2', 'worker-3'];
const KILL = 'worker-2';
const KILL_AFTER = 2500; // jobs acknowledged
const here = fileURLToPath(new URL('.', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A redis-server of this example's own, unless REDIS_URL names one. */
async function redisUrl(): Promise<{ url: string; stop: () => void }> {
  if (process.env['REDIS_URL'] !== undefined) return { url: process.env['REDIS_URL'], stop: () => undefined };
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { url: `redis://127.0.0.1:${port}`, stop: () => server.kill('SIGTERM') };
}

const { url, stop } = await redisUrl();
const redis = new Redis(url);
await redis.del('jobs');

const workers = new Map<string, ChildProcess>();
let redelivered = 0;
for (const name of WORKERS) {
  const child = fork(`${here}worker.ts`, [url, name], { execArgv: ['--import', 'tsx'] });
  child.on('exit', () => workers.delete(name));
  child.on('message', () => redelivered++);
  workers.set(name, child);
}

// the producer: 10^4 jobs, 200 every 20 ms
let produced = 0;
const producer = setInterval(() => {
  const batch = redis.pipeline();
  for (let i = 0; i < 200 && produced < JOBS; i++, produced++) batch.xadd('jobs', '*', 'job', String(produced));
  void batch.exec();
  if (produced >= JOBS) clearInterval(producer);
}, 20);

const started = Date.now();
let killed = false;

const maxPending: Record<string, number> = {};
const sampler = setInterval(() => void sample(), 10);
async function sample(): Promise<Record<string, number>> {
  const reply = (await redis.xpending('jobs', 'workers').catch(() => [0, null, null, null])) as [
    number,
    unknown,
    unknown,
    [string, string][] | null,
  ];
  const pending = Object.fromEntries((reply[3] ?? []).map(([name, n]) => [name, Number(n)]));
  for (const [name, n] of Object.entries(pending)) maxPending[name] = Math.max(maxPending[name] ?? 0, n);
  return pending;
}

async function acknowledged(): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', 'jobs').catch(() => [])) as unknown[][];
  const info = groups[0] ?? [];
  const field = (name: string): number => Number(info[info.indexOf(name) + 1] ?? 0);
  return field('entries-read') - field('pending');
}

const ticker = setInterval(async () => {
  const pending = await sample();
  const acked = await acknowledged();
  if (!killed && acked >= KILL_AFTER) {
    killed = true;
    console.log(`-- ${KILL} killed (SIGKILL) holding ${pending[KILL] ?? 0} jobs --`);
    workers.get(KILL)?.kill('SIGKILL');
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(3);
  const perWorker = WORKERS.map((w) => `${w} ${String(pending[w] ?? 0).padStart(2)}`).join('  ');
  console.log(
    `${seconds}s  produced ${produced}  acknowledged ${acked}  redelivered ${redelivered}  pending: ${perWorker}`,
  );
  if (acked >= JOBS && Object.values(pending).every((n) => n === 0)) {
    clearInterval(ticker);
    clearInterval(sampler);
    console.log(`done: ${JOBS} jobs acknowledged, ${redelivered} redelivered after the kill, nothing pending`);
    console.log(`most pending per worker at any sample (bound 4): ${JSON.stringify(maxPending)}`);
    for (const child of [...workers.values()]) child.kill('SIGTERM');
    redis.disconnect();
    stop();
  }
}, 1000);
