/**
 * fromRedisStream against a real redis-server started here (and a TCP proxy in front of it for lost replies and cut
 * connections). The three-process fleet with a worker killed mid-run is in fleet.spec.ts.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { Subject, take } from 'rxjs';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Demand } from '../../src/demand/Demand.js';
import { drain } from '../../src/demand/drain.js';
import { fromRedisStream } from '../../src/redis/index.js';
import type { DeadLetter, StreamEntry } from '../../src/redis/index.js';
import { requireBinary } from '../helpers/binaries.js';
import { startProxy } from './proxy.js';
import type { RedisProxy } from './proxy.js';
import { startRedis } from './redisServer.js';
import type { RedisServer } from './redisServer.js';

const REDIS_SERVER = requireBinary('redis-server');
let server: RedisServer;
let admin: Redis;
const clients: Redis[] = [];
const subscriptions: Subscription[] = [];
let key = 0;

beforeAll(async () => {
  if (REDIS_SERVER === undefined) return; // skipped: requireBinary said what to install
  server = await startRedis(REDIS_SERVER);
  admin = new Redis({ host: '127.0.0.1', port: server.port });
});

afterEach(() => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

function client(options: RedisOptions = {}, port = server.port): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, ...options });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

function names(): { stream: string; group: string } {
  key++;
  return { stream: `s:${key}`, group: `g:${key}` };
}

async function add(stream: string, n: number, from = 0): Promise<string[]> {
  const pipeline = admin.pipeline();
  for (let i = from; i < from + n; i++) pipeline.xadd(stream, '*', 'n', String(i));
  const replies = (await pipeline.exec())!;
  return replies.map(([, id]) => id as string);
}

/** Pending entries per consumer of the group. */
async function pendingOf(stream: string, group: string): Promise<Record<string, number>> {
  const [, , , consumers] = (await admin.xpending(stream, group)) as [number, unknown, unknown, [string, string][]];
  return Object.fromEntries((consumers ?? []).map(([name, count]) => [name, Number(count)]));
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function collect(source: ReturnType<typeof fromRedisStream>): {
  entries: StreamEntry[];
  errors: unknown[];
  subscription: Subscription;
} {
  const entries: StreamEntry[] = [];
  const errors: unknown[] = [];
  const subscription = source.subscribe({ next: (e) => entries.push(e), error: (e) => errors.push(e) });
  subscriptions.push(subscription);
  return { entries, errors, subscription };
}

describe.skipIf(REDIS_SERVER === undefined)('fromRedisStream: demand', () => {
  it('reads no more entries than the credit given (an explicit Demand), BLOCKing while idle', async () => {
    const { stream, group } = names();
    await add(stream, 50);
    const demand = new Demand();
    const { entries } = collect(fromRedisStream(client(), { stream, group, consumer: 'c1' }, demand));
    await sleep(100);
    expect(entries).toHaveLength(0);
    expect(await pendingOf(stream, group)).toEqual({});
    demand.request(3);
    await until(() => entries.length === 3, '3 entries');
    await sleep(100);
    expect(entries).toHaveLength(3);
    expect(await pendingOf(stream, group)).toEqual({ c1: 3 });
    demand.request(2);
    await until(() => entries.length === 5, '5 entries');
    await sleep(50);
    expect(await pendingOf(stream, group)).toEqual({ c1: 5 });
    expect(entries.map((e) => e.fields['n'])).toEqual(['0', '1', '2', '3', '4']);
    expect(entries.every((e) => e.deliveries === 1)).toBe(true);
    await entries[0]!.ack();
    await entries[0]!.ack(); // idempotent
    expect(await pendingOf(stream, group)).toEqual({ c1: 4 });
  });

  it('linked to a drain: pending never above the drain concurrency, every entry acknowledged', async () => {
    const { stream, group } = names();
    await add(stream, 200);
    const done: string[] = [];
    let maxPending = 0;
    const sampling = setInterval(() => {
      pendingOf(stream, group).then(
        (p) => (maxPending = Math.max(maxPending, p['w'] ?? 0)),
        () => undefined, // before the group exists
      );
    }, 2);
    try {
      const subscription = fromRedisStream(client(), { stream, group, consumer: 'w' })
        .pipe(
          drain(
            async (entry) => {
              await sleep(1);
              await entry.ack();
              done.push(entry.fields['n']!);
            },
            { concurrency: 3 },
          ),
        )
        .subscribe();
      subscriptions.push(subscription);
      await until(() => done.length === 200, '200 entries done', 10_000);
    } finally {
      clearInterval(sampling);
    }
    expect(new Set(done).size).toBe(200);
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(3);
    expect(await pendingOf(stream, group)).toEqual({});
  });

  it('control: without a drain, unbounded demand reads everything at once (so the bound above can fail)', async () => {
    const { stream, group } = names();
    await add(stream, 200);
    const { entries } = collect(fromRedisStream(client(), { stream, group, consumer: 'u', count: 50 }));
    await until(() => entries.length === 200, '200 entries');
    expect((await pendingOf(stream, group))['u']).toBe(200);
  });

  it('waits on the server for new entries and delivers them as they are added', async () => {
    const { stream, group } = names();
    const demand = new Demand();
    demand.request(10);
    const { entries } = collect(fromRedisStream(client(), { stream, group, consumer: 'c', block: 10_000 }, demand));
    await sleep(100);
    await add(stream, 2);
    await until(() => entries.length === 2, 'two new entries');
  });
});

describe.skipIf(REDIS_SERVER === undefined)('fromRedisStream: the group', () => {
  it('creates a missing group (MKSTREAM) at the start of the stream by default', async () => {
    const { stream, group } = names();
    await add(stream, 3);
    const { entries } = collect(fromRedisStream(client(), { stream, group, consumer: 'c' }));
    await until(() => entries.length === 3, 'the 3 entries added before the group existed');
  });

  it("groupStart '$' reads only entries added later; several consumers creating it at once is fine", async () => {
    const { stream, group } = names();
    await add(stream, 3);
    const a = collect(fromRedisStream(client(), { stream, group, consumer: 'a', groupStart: '$' }));
    const b = collect(fromRedisStream(client(), { stream, group, consumer: 'b', groupStart: '$' }));
    await until(async () => ((await admin.xinfo('GROUPS', stream)) as unknown[]).length === 1, 'the group');
    await sleep(50);
    await add(stream, 4, 100);
    await until(() => a.entries.length + b.entries.length === 4, 'the 4 new entries');
    expect([...a.entries, ...b.entries].map((e) => Number(e.fields['n'])).sort()).toEqual([100, 101, 102, 103]);
    expect(a.errors.concat(b.errors)).toEqual([]);
  });

  it('createGroup: false and no group: the stream errors with NOGROUP', async () => {
    const { stream, group } = names();
    await add(stream, 1);
    const { errors } = collect(fromRedisStream(client(), { stream, group, consumer: 'c', createGroup: false }));
    await until(() => errors.length === 1, 'an error');
    expect(String((errors[0] as Error).message)).toMatch(/NOGROUP/);
  });

  it('a Redis error errors the stream (the key holds a string)', async () => {
    const { stream, group } = names();
    await admin.set(stream, 'not a stream');
    const { errors } = collect(fromRedisStream(client(), { stream, group, consumer: 'c' }));
    await until(() => errors.length === 1, 'an error');
    expect(String((errors[0] as Error).message)).toMatch(/WRONGTYPE/);
  });

  it('the group deleted while reading errors the stream', async () => {
    const { stream, group } = names();
    const { errors } = collect(fromRedisStream(client(), { stream, group, consumer: 'c', block: 50 }));
    await until(async () => (await admin.exists(stream)) === 1, 'the stream');
    await admin.xgroup('DESTROY', stream, group);
    await until(() => errors.length === 1, 'an error');
    expect(String((errors[0] as Error).message)).toMatch(/NOGROUP|consumer group/i);
  });
});

describe.skipIf(REDIS_SERVER === undefined)('fromRedisStream: at-least-once', () => {
  it('claims what another consumer left pending longer than claimIdle, while subscribed, with its delivery count', async () => {
    const { stream, group } = names();
    await add(stream, 5);
    // b is subscribed first and finds nothing to claim; a takes 3 and dies without acknowledging
    const bDemand = new Demand();
    const b = collect(fromRedisStream(client(), { stream, group, consumer: 'b', claimIdle: 200, block: 50 }, bDemand));
    await until(async () => (await admin.exists(stream)) === 1, 'the group');
    const aDemand = new Demand();
    const a = collect(fromRedisStream(client(), { stream, group, consumer: 'a', claimIdle: 60_000 }, aDemand));
    aDemand.request(3);
    await until(() => a.entries.length === 3, 'a has 3');
    a.subscription.unsubscribe();
    expect(await pendingOf(stream, group)).toEqual({ a: 3 });
    bDemand.request(10);
    await until(() => b.entries.length === 5, 'b has all 5', 5000);
    const claimed = b.entries.filter((e) => e.deliveries === 2).map((e) => e.fields['n']);
    expect(claimed.sort()).toEqual(['0', '1', '2']);
    expect(b.entries.filter((e) => e.deliveries === 1).map((e) => e.fields['n'])).toEqual(['3', '4']);
    await Promise.all(b.entries.map((e) => e.ack()));
    expect(await pendingOf(stream, group)).toEqual({});
  });

  it('claims no more than its credit, and does not emit again an entry it still holds', async () => {
    const { stream, group } = names();
    await add(stream, 6);
    const aDemand = new Demand();
    const a = collect(fromRedisStream(client(), { stream, group, consumer: 'a', claimIdle: 60_000 }, aDemand));
    aDemand.request(6);
    await until(() => a.entries.length === 6, 'a has 6');
    a.subscription.unsubscribe();
    const demand = new Demand();
    const b = collect(fromRedisStream(client(), { stream, group, consumer: 'b', claimIdle: 50, block: 20 }, demand));
    demand.request(2);
    await until(() => b.entries.length === 2, 'b claimed 2');
    await sleep(300); // b's own two entries go idle past claimIdle: XAUTOCLAIM takes them again, b must not re-emit
    expect(b.entries).toHaveLength(2);
    expect(await pendingOf(stream, group)).toEqual({ a: 4, b: 2 });
  });

  it('a consumer restarted under the same name replays its own pending entries first', async () => {
    const { stream, group } = names();
    await add(stream, 4);
    const first = new Demand();
    const a = collect(fromRedisStream(client(), { stream, group, consumer: 'same' }, first));
    first.request(2);
    await until(() => a.entries.length === 2, '2 read');
    a.subscription.unsubscribe();
    const again = collect(fromRedisStream(client(), { stream, group, consumer: 'same' }));
    await until(() => again.entries.length === 4, 'all 4');
    expect(again.entries.map((e) => [e.fields['n'], e.deliveries])).toEqual([
      ['0', 2],
      ['1', 2],
      ['2', 1],
      ['3', 1],
    ]);
  });

  it('an entry delivered more than maxDeliveries times goes to onDeadLetter and is acknowledged', async () => {
    const { stream, group } = names();
    await add(stream, 3);
    const aDemand = new Demand();
    const a = collect(fromRedisStream(client(), { stream, group, consumer: 'a' }, aDemand));
    aDemand.request(1);
    await until(() => a.entries.length === 1, 'a has 1');
    a.subscription.unsubscribe();
    const dead: DeadLetter[] = [];
    const b = collect(
      fromRedisStream(client(), {
        stream,
        group,
        consumer: 'b',
        claimIdle: 50,
        block: 20,
        maxDeliveries: 1,
        onDeadLetter: async (entry) => {
          await sleep(10);
          dead.push(entry);
        },
      }),
    );
    await until(() => dead.length === 1 && b.entries.length === 2, 'one dead letter, two entries');
    expect(dead[0]).toMatchObject({ fields: { n: '0' }, deliveries: 2 });
    await Promise.all(b.entries.map((e) => e.ack()));
    await until(async () => Object.keys(await pendingOf(stream, group)).length === 0, 'nothing pending');
  });

  it('an onDeadLetter that throws errors the stream and leaves the entry pending', async () => {
    const { stream, group } = names();
    await add(stream, 1);
    const aDemand = new Demand();
    const a = collect(fromRedisStream(client(), { stream, group, consumer: 'a' }, aDemand));
    aDemand.request(1);
    await until(() => a.entries.length === 1, 'a has 1');
    a.subscription.unsubscribe();
    const boom = new Error('dead letter store down');
    const b = collect(
      fromRedisStream(client(), {
        stream,
        group,
        consumer: 'b',
        claimIdle: 50,
        block: 20,
        maxDeliveries: 1,
        onDeadLetter: () => Promise.reject(boom),
      }),
    );
    await until(() => b.errors.length === 1, 'the error');
    expect(b.errors[0]).toBe(boom);
    expect(await pendingOf(stream, group)).toEqual({ b: 1 });
  });
});

describe.skipIf(REDIS_SERVER === undefined)('fromRedisStream: unsubscribe', () => {
  it('closes its reading connection at once (even in a BLOCK) and reads nothing more', async () => {
    const { stream, group } = names();
    const redis = client();
    await redis.ping();
    const before = (await admin.client('LIST')) as string;
    const { subscription } = collect(fromRedisStream(redis, { stream, group, consumer: 'c', block: 60_000 }));
    await until(async () => ((await admin.client('LIST')) as string).includes('cmd=xreadgroup'), 'a blocked read');
    subscription.unsubscribe();
    await until(
      async () => ((await admin.client('LIST')) as string).split('\n').length === before.split('\n').length,
      'the reading connection gone',
    );
    await add(stream, 3);
    await sleep(100);
    expect(await pendingOf(stream, group)).toEqual({});
  });

  it('take(2) in the middle of a batch: the rest stays pending for a claim, nothing is emitted after', async () => {
    const { stream, group } = names();
    await add(stream, 5);
    const seen: string[] = [];
    const subscription = fromRedisStream(client(), { stream, group, consumer: 'c' })
      .pipe(take(2))
      .subscribe((e) => seen.push(e.fields['n']!));
    subscriptions.push(subscription);
    await until(() => seen.length === 2, 'two');
    await sleep(100);
    expect(seen).toEqual(['0', '1']);
  });
});

describe.skipIf(REDIS_SERVER === undefined)('fromRedisStream: reconnects and connection loss', () => {
  let proxy: RedisProxy;
  beforeAll(async () => {
    proxy = await startProxy(server.port);
  });
  afterAll(async () => {
    await proxy.close();
  });
  afterEach(() => proxy.refuse(false));

  it('a read served by Redis whose reply is lost in a reconnect is recovered, not skipped nor doubled', async () => {
    const { stream, group } = names();
    const redis = client({ retryStrategy: () => 20 }, proxy.port);
    const demand = new Demand();
    const { entries, errors } = collect(
      fromRedisStream(redis, { stream, group, consumer: 'c', block: 60_000 }, demand),
    );
    demand.request(5);
    await until(async () => ((await admin.client('LIST')) as string).includes('cmd=xreadgroup'), 'a blocked read');
    const lost = proxy.loseReplyWith('LOST-ME');
    await admin.xadd(stream, '*', 'n', 'LOST-ME');
    await lost;
    // Redis served the read: the entry is pending for c, and c never saw the reply
    expect(await pendingOf(stream, group)).toEqual({ c: 1 });
    await until(() => entries.length === 1, 'the entry recovered after the reconnect');
    await add(stream, 3);
    await until(() => entries.length === 4, 'the next three');
    await sleep(100);
    expect(entries.map((e) => e.fields['n'])).toEqual(['LOST-ME', '0', '1', '2']);
    expect(entries[0]!.deliveries).toBe(2);
    expect(errors).toEqual([]);
    expect(await pendingOf(stream, group)).toEqual({ c: 4 });
  });

  it('connections cut again and again while entries arrive: each entry emitted exactly once', async () => {
    const { stream, group } = names();
    const redis = client({ retryStrategy: () => 10 }, proxy.port);
    const done: string[] = [];
    const subscription = fromRedisStream(redis, { stream, group, consumer: 'c', block: 1000 })
      .pipe(
        drain(
          async (entry) => {
            await sleep(1);
            await entry.ack();
            done.push(entry.fields['n']!);
          },
          { concurrency: 4 },
        ),
      )
      .subscribe({ error: (e) => done.push(`error ${String(e)}`) });
    subscriptions.push(subscription);
    for (let round = 0; round < 10; round++) {
      await add(stream, 30, round * 30);
      await sleep(15);
      proxy.cutAll();
    }
    await until(() => done.length >= 300, '300 entries', 15_000);
    await sleep(200);
    expect(done.filter((d) => d.startsWith('error'))).toEqual([]);
    expect(done).toHaveLength(300);
    expect(new Set(done).size).toBe(300);
    await until(async () => Object.keys(await pendingOf(stream, group)).length === 0, 'nothing pending');
  });

  it('redis-server restarted (no persistence): the group is gone, the stream errors with NOGROUP, never recreates it', async () => {
    const own = await startRedis(REDIS_SERVER!);
    try {
      const redis = client({ retryStrategy: () => 50, port: own.port });
      const demand = new Demand();
      demand.request(1);
      const { entries, errors } = collect(
        fromRedisStream(redis, { stream: 'r', group: 'g', consumer: 'c', block: 100 }, demand),
      );
      const direct = client({ port: own.port });
      await direct.xadd('r', '*', 'n', '0');
      await until(() => entries.length === 1, 'one entry');
      await own.stop();
      const again = await startRedis(REDIS_SERVER!, own.port);
      try {
        demand.request(1);
        await until(() => errors.length === 1, 'the error after the reconnect', 10_000);
        expect(String((errors[0] as Error).message)).toMatch(/NOGROUP/);
      } finally {
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  }, 20_000);

  it('the server gone and the retryStrategy giving up: the stream errors, no hang', async () => {
    const { stream, group } = names();
    let attempts = 0;
    const redis = client({ retryStrategy: () => (++attempts > 3 ? null : 10) }, proxy.port);
    const { errors } = collect(fromRedisStream(redis, { stream, group, consumer: 'c', block: 60_000 }));
    await until(async () => ((await admin.client('LIST')) as string).includes('cmd=xreadgroup'), 'a blocked read');
    proxy.refuse(true);
    proxy.cutAll();
    await until(() => errors.length === 1, 'the error');
    expect(String((errors[0] as Error).message)).toMatch(/Connection is closed|ended/);
  });

  it('the server gone while waiting for credit: maxRetriesPerRequest ends the stream with its error', async () => {
    const { stream, group } = names();
    const redis = client({ retryStrategy: () => 10, maxRetriesPerRequest: 2 }, proxy.port);
    const demand = new Demand();
    const { errors } = collect(fromRedisStream(redis, { stream, group, consumer: 'c', block: 60_000 }, demand));
    await until(async () => (await admin.exists(stream)) === 1, 'the group');
    await sleep(50);
    proxy.refuse(true);
    proxy.cutAll();
    await sleep(50);
    demand.request(1); // the read waits in the offline queue until the client gives up on it
    await until(() => errors.length === 1, 'the error');
    expect((errors[0] as Error).name).toBe('MaxRetriesPerRequestError');
  });
});

describe.skipIf(REDIS_SERVER === undefined)('fromRedisStream: options', () => {
  const redis = { call: () => Promise.resolve(null), duplicate: () => ({}) } as never;
  it.each([
    [{ group: 'g', consumer: 'c' }, TypeError, /stream must be a non-empty string/],
    [{ stream: '', group: 'g', consumer: 'c' }, RangeError, /stream must be a non-empty string, got ""/],
    [{ stream: 's', group: 'g', consumer: 'c', claimIdle: 0 }, RangeError, /claimIdle must be a positive integer/],
    [{ stream: 's', group: 'g', consumer: 'c', block: 1.5 }, RangeError, /block must be a positive integer/],
    [{ stream: 's', group: 'g', consumer: 'c', count: -1 }, RangeError, /count must be a positive integer/],
    [{ stream: 's', group: 'g', consumer: 'c', maxDeliveries: 3 }, TypeError, /maxDeliveries needs onDeadLetter/],
    [{ stream: 's', group: 'g', consumer: 'c', bogus: 1 }, TypeError, /unknown option "bogus"/],
  ])('%o throws at the call', (options, kind, message) => {
    expect(() => fromRedisStream(redis, options as never)).toThrow(kind);
    expect(() => fromRedisStream(redis, options as never)).toThrow(message);
  });
  it('rejects what is not an ioredis client, and a demand that is not one', () => {
    expect(() => fromRedisStream({} as never, { stream: 's', group: 'g', consumer: 'c' })).toThrow(
      /fromRedisStream: redis must be an ioredis client/,
    );
    expect(() => fromRedisStream(redis, { stream: 's', group: 'g', consumer: 'c' }, 5 as never)).toThrow(TypeError);
  });
  it('a credit that is not a positive integer errors the stream with RangeError', async () => {
    const errors: unknown[] = [];
    const credits = new Subject<number>();
    const r = client();
    subscriptions.push(
      fromRedisStream(r, { stream: 'x', group: 'y', consumer: 'z' }, credits).subscribe({
        error: (e) => errors.push(e),
      }),
    );
    credits.next(0);
    expect(errors[0]).toBeInstanceOf(RangeError);
  });
});
