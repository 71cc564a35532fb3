/**
 * Demand across processes (issue 22), each against the plain transport in the same run:
 * - the ws bridge (serveStreams + requestStream, 64-byte string values, loopback) against plain `ws` sends with no
 *   credit: the server sends N frames as fast as it can, the client counts them;
 * - fromRedisStream against a bare XREADGROUP COUNT 100 loop, both reading N entries as a new consumer group on a
 *   connection of their own (fromRedisStream opens one per subscription, so the loop does too).
 *
 * Both run on the package as it ships ('rxjs-backpressure', /redis and /ws resolved to dist/, see bench/dist.ts).
 *
 *   node --expose-gc --import ./bench/tsx-dist.mjs bench/across.bench.ts
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { Subscription } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';
import { drain, pull } from 'rxjs-backpressure';
import { fromRedisStream } from 'rxjs-backpressure/redis';
import { requestStream, serveStreams } from 'rxjs-backpressure/ws';
import { findBinary } from '../scripts/prereqs.js';
import { startRedis } from '../spec/redis/redisServer.js';
import { compare, print, save } from './harness.js';
import type { BenchRow } from './harness.js';

const VALUE = 'v'.repeat(64);
const WS_N = 20_000;
const REDIS_N = 5_000;

function* values(n: number): Generator<string> {
  for (let i = 0; i < n; i++) yield VALUE;
}

async function wsRows(): Promise<BenchRow[]> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  server.on('connection', (socket, request) => {
    if (request.url === '/plain') {
      // no credit: N frames as fast as ws takes them
      socket.on('message', () => {
        for (let i = 0; i < WS_N; i++) socket.send(VALUE);
      });
    } else {
      serveStreams(socket, () => pull(values(WS_N)));
    }
  });
  const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const open = async (path: string): Promise<WebSocket> => {
    const socket = new WebSocket(base + path);
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    return socket;
  };
  const plain = await open('/plain');
  const bridged = await open('/bridge');
  let counted = 0;
  let onCount: (() => void) | undefined;
  plain.on('message', () => {
    if (++counted === WS_N) onCount?.();
  });
  const rows = await compare(
    'ws bridge (64-byte values, loopback)',
    {
      name: 'plain ws sends, no credit',
      values: WS_N,
      fn: () =>
        new Promise<void>((resolve) => {
          counted = 0;
          onCount = resolve;
          plain.send('go');
        }),
    },
    [
      {
        name: 'requestStream <- serveStreams(pull), unbounded demand',
        values: WS_N,
        fn: () =>
          new Promise<void>((resolve, reject) => {
            let n = 0;
            requestStream<string>(bridged, 'feed').subscribe({
              next: () => n++,
              error: reject,
              complete: () => resolve(),
            });
          }),
      },
      {
        name: 'requestStream -> drain(concurrency 64) <- serveStreams(pull)',
        values: WS_N,
        fn: () =>
          new Promise<void>((resolve, reject) => {
            requestStream<string>(bridged, 'feed')
              .pipe(drain(() => [], { concurrency: 64 }))
              .subscribe({ error: reject, complete: () => resolve() });
          }),
      },
    ],
    { rounds: 5, time: 300 },
  );
  plain.terminate();
  bridged.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return rows;
}

async function redisRows(): Promise<BenchRow[]> {
  const binary = findBinary('redis-server', process.env);
  if (binary === undefined) throw new Error('bench/across.bench.ts needs redis-server (apt-get install redis-server)');
  const server = await startRedis(binary);
  const redis = new Redis({ host: '127.0.0.1', port: server.port });
  for (let i = 0; i < REDIS_N; i += 1000) {
    const p = redis.pipeline();
    for (let k = i; k < i + 1000; k++) p.xadd('bench', '*', 'v', VALUE);
    await p.exec();
  }
  let groups = 0;
  const newGroup = async (): Promise<string> => {
    const group = `g${groups++}`;
    await redis.xgroup('CREATE', 'bench', group, '0');
    return group;
  };
  const rows = await compare(
    'fromRedisStream (5000 entries, a new group per call)',
    {
      name: 'bare XREADGROUP COUNT 100 loop',
      values: REDIS_N,
      fn: async () => {
        const group = await newGroup();
        const connection = redis.duplicate();
        let read = 0;
        while (read < REDIS_N) {
          const reply = (await connection.call(
            'XREADGROUP',
            'GROUP',
            group,
            'c',
            'COUNT',
            100,
            'STREAMS',
            'bench',
            '>',
          )) as [string, unknown[]][] | null;
          read += reply?.[0]?.[1].length ?? 0;
        }
        connection.disconnect();
      },
    },
    [
      {
        name: 'fromRedisStream, unbounded demand (count 100)',
        values: REDIS_N,
        fn: async () => {
          const group = await newGroup();
          await new Promise<void>((resolve, reject) => {
            let read = 0;
            const subscription: Subscription = fromRedisStream(redis, {
              stream: 'bench',
              group,
              consumer: 'c',
              createGroup: false,
              claimIdle: Infinity,
            }).subscribe({
              next: () => {
                if (++read === REDIS_N) {
                  resolve();
                  queueMicrotask(() => subscription.unsubscribe());
                }
              },
              error: reject,
            });
          });
        },
      },
      {
        name: 'fromRedisStream -> drain(concurrency 100)',
        values: REDIS_N,
        fn: async () => {
          const group = await newGroup();
          await new Promise<void>((resolve, reject) => {
            let read = 0;
            const subscription: Subscription = fromRedisStream(redis, {
              stream: 'bench',
              group,
              consumer: 'c',
              createGroup: false,
              claimIdle: Infinity,
            })
              .pipe(
                drain(
                  () => {
                    if (++read === REDIS_N) {
                      resolve();
                      queueMicrotask(() => subscription.unsubscribe());
                    }
                    return [];
                  },
                  { concurrency: 100 },
                ),
              )
              .subscribe({ error: reject });
          });
        },
      },
    ],
    { rounds: 5, time: 300 },
  );
  redis.disconnect();
  await server.stop();
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  const rows = [...(await wsRows()), ...(await redisRows())];
  print(rows);
  save(rows);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
