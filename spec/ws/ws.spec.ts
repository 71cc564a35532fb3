/**
 * serveStreams / requestStream over real sockets: a `ws` WebSocketServer on 127.0.0.1 and `ws` clients, plus raw
 * clients and servers that break the protocol.
 */
import type { AddressInfo } from 'node:net';
import { Observable, interval, lastValueFrom, map, take, throwError, toArray, concat, of } from 'rxjs';
import type { ObservableInput, Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Demand } from '../../src/demand/Demand.js';
import { drain } from '../../src/demand/drain.js';
import { pull } from '../../src/demand/pull.js';
import { isProtocolError } from '../../src/errors.js';
import type { ProtocolError } from '../../src/errors.js';
import { requestStream, serveStreams } from '../../src/ws/index.js';
import type { WebSocketLike } from '../../src/ws/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** What the server side saw: values produced by each route, routes running, generators finished. */
const seen = { produced: 0, running: 0, returned: 0, routes: 0 };

async function* counting(limit = Infinity, delay = 0): AsyncGenerator<number> {
  try {
    for (let i = 0; i < limit; i++) {
      if (delay > 0) await sleep(delay);
      seen.produced++;
      yield i;
    }
  } finally {
    seen.returned++;
  }
}

type Request =
  | { kind: 'count'; limit?: number; delay?: number }
  | { kind: 'fail'; after: number }
  | { kind: 'throw' }
  | { kind: 'interval' }
  | { kind: 'echo'; value: unknown }
  | { kind: 'sync-forever' };

function route(request: unknown): ObservableInput<unknown> {
  seen.routes++;
  const r = request as Request;
  switch (r.kind) {
    case 'count':
      return new Observable((subscriber) => {
        seen.running++;
        const s = pull(counting(r.limit, r.delay)).subscribe(subscriber);
        return () => {
          seen.running--;
          s.unsubscribe();
        };
      });
    case 'fail':
      return concat(
        pull(counting(r.after)),
        throwError(() => new RangeError('route failed on purpose')),
      );
    case 'throw':
      throw new Error('no such feed');
    case 'interval':
      return interval(1);
    case 'echo':
      return of(r.value);
    case 'sync-forever':
      // ignores demand and stops only when its subscriber is closed
      return new Observable<number>((subscriber) => {
        seen.running++;
        for (let i = 0; !subscriber.closed; i++) subscriber.next(i);
        seen.running--;
      });
  }
}

let server: WebSocketServer;
let url: string;
const serving: Subscription[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket) => serving.push(serveStreams(socket, route, { maxStreams: 8, maxCredit: 1 << 17 })));
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await until(() => seen.running === 0, 'routes unsubscribed after the test');
  seen.produced = 0;
  seen.returned = 0;
  seen.routes = 0;
});

afterAll(async () => {
  for (const s of serving) s.unsubscribe();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function connect(): Promise<WebSocket> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

describe('requestStream + serveStreams: demand across the socket', () => {
  it("the server's source never runs more than the client's credit ahead (an explicit Demand)", async () => {
    const socket = await connect();
    const demand = new Demand();
    const received: number[] = [];
    const subscription = requestStream<number>(socket, { kind: 'count' }, demand).subscribe((v) => received.push(v));
    await sleep(50);
    expect(seen.produced).toBe(0);
    demand.request(3);
    await until(() => received.length === 3, '3 values');
    await sleep(50);
    expect(seen.produced).toBe(3);
    demand.request(5);
    await until(() => received.length === 8, '8 values');
    await sleep(50);
    expect(seen.produced).toBe(8);
    expect(received).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    subscription.unsubscribe();
  });

  it('linked to a slow drain: the producer stays within the drain concurrency of what is done', async () => {
    const socket = await connect();
    let done = 0;
    let ahead = 0;
    const subscription = requestStream<number>(socket, { kind: 'count' })
      .pipe(
        drain(
          async () => {
            ahead = Math.max(ahead, seen.produced - done);
            await sleep(2);
            done++;
          },
          { concurrency: 3 },
        ),
      )
      .subscribe();
    const sampler = setInterval(() => (ahead = Math.max(ahead, seen.produced - done)), 1);
    await until(() => done >= 100, '100 done');
    clearInterval(sampler);
    subscription.unsubscribe();
    expect(ahead).toBeGreaterThan(0);
    expect(ahead).toBeLessThanOrEqual(3);
  });

  it('control: an unbounded client lets the producer run far ahead of a slow consumer (the check above can fail)', async () => {
    const socket = await connect();
    let done = 0;
    const subscription = requestStream<number>(socket, { kind: 'count' }).subscribe(() => {
      // a consumer that cannot keep up, but takes every value it is given
      done += 0.001;
    });
    await until(() => seen.produced > 10_000, '10^4 produced');
    subscription.unsubscribe();
    expect(seen.produced - done).toBeGreaterThan(3);
  });

  it('order and completion cross the wire', async () => {
    const socket = await connect();
    const values = await lastValueFrom(requestStream<number>(socket, { kind: 'count', limit: 1000 }).pipe(toArray()));
    expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('a route error reaches the client as an error with its message and name, and the socket stays usable', async () => {
    const socket = await connect();
    const values: number[] = [];
    const error = await new Promise<unknown>((resolve) =>
      requestStream<number>(socket, { kind: 'fail', after: 2 }).subscribe({
        next: (v) => values.push(v),
        error: resolve,
      }),
    );
    expect(values).toEqual([0, 1]);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('route failed on purpose');
    expect((error as Error).name).toBe('RangeError');
    expect(isProtocolError(error)).toBe(false);
    const thrown = await lastValueFrom(requestStream(socket, { kind: 'throw' })).catch((e: unknown) => e);
    expect((thrown as Error).message).toBe('no such feed');
    expect(await lastValueFrom(requestStream(socket, { kind: 'echo', value: { ok: [1, 'two'] } }))).toEqual({
      ok: [1, 'two'],
    });
  });

  it('unsubscribing sends cancel and the server unsubscribes its source (the generator is returned)', async () => {
    const socket = await connect();
    const values = await lastValueFrom(
      requestStream<number>(socket, { kind: 'count', delay: 1 }).pipe(take(3), toArray()),
    );
    expect(values).toEqual([0, 1, 2]);
    await until(() => seen.running === 0 && seen.returned === 1, 'the route unsubscribed and its generator returned');
  });

  it('several streams share one socket, each with its own credit', async () => {
    const socket = await connect();
    const a = new Demand();
    const b = new Demand();
    const got: Record<string, number[]> = { a: [], b: [] };
    const sa = requestStream<number>(socket, { kind: 'count' }, a).subscribe((v) => got['a']!.push(v));
    const sb = requestStream<string>(socket, { kind: 'count' }, b)
      .pipe(map(String))
      .subscribe((v) => got['b']!.push(Number(v)));
    a.request(2);
    b.request(5);
    await until(() => got['a']!.length === 2 && got['b']!.length === 5, 'both');
    await sleep(50);
    expect(got).toEqual({ a: [0, 1], b: [0, 1, 2, 3, 4] });
    expect(seen.produced).toBe(7);
    sa.unsubscribe();
    sb.unsubscribe();
  });

  it('an unbounded client reads past one installment (2^16) without breaking maxCredit', async () => {
    const socket = await connect();
    let count = 0;
    let last = -1;
    await new Promise<void>((resolve, reject) =>
      requestStream<number>(socket, { kind: 'count', limit: 150_000 }).subscribe({
        next: (v) => {
          if (v !== last + 1) reject(new Error(`${v} after ${last}`));
          last = v;
          count++;
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(count).toBe(150_000);
  }, 30_000);

  it("an unbounded client requests in installments of at most the server's maxCredit (1000 here)", async () => {
    const small = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    const served: Subscription[] = [];
    small.on('connection', (socket) => served.push(serveStreams(socket, route, { maxCredit: 1000 })));
    await new Promise<void>((resolve) => small.once('listening', () => resolve()));
    try {
      const socket = new WebSocket(`ws://127.0.0.1:${(small.address() as AddressInfo).port}`);
      sockets.push(socket);
      await new Promise((resolve) => socket.once('open', resolve));
      const sent: Record<string, unknown>[] = [];
      const received: string[] = [];
      // credit on the wire as the client sees it at each frame it sends (given minus values received so far)
      let given = 0;
      let values = 0;
      let most = 0;
      const send = socket.send.bind(socket);
      socket.send = ((data: string) => {
        const f = JSON.parse(data) as Record<string, unknown>;
        sent.push(f);
        given += typeof f['n'] === 'number' ? f['n'] : 0;
        most = Math.max(most, given - values);
        send(data);
      }) as typeof socket.send;
      socket.on('message', (data) => {
        const type = (JSON.parse(String(data)) as { type: string }).type;
        received.push(type);
        if (type === 'next') values++;
      });
      const count = (): Promise<number[]> =>
        lastValueFrom(requestStream<number>(socket, { kind: 'count', limit: 5000 }).pipe(toArray()));
      const first = await count();
      expect(first).toHaveLength(5000);
      expect(first[4999]).toBe(4999);
      // the first stream opens with 1 credit; the server's first frame says its limits; then installments of 1000
      expect(sent[0]).toMatchObject({ type: 'open', n: 1 });
      expect(received[0]).toBe('limits');
      // 4999 more credits than the open's 1, at most 1000 a frame: 5 request frames at least
      expect(sent.filter((f) => f['type'] === 'request').length).toBeGreaterThanOrEqual(5);
      expect(most).toBe(1000);
      // a later stream on the socket opens with a whole installment, within maxCredit
      sent.length = 0;
      expect(await count()).toHaveLength(5000);
      expect(sent[0]).toMatchObject({ type: 'open', n: 1000 });
    } finally {
      for (const s of served) s.unsubscribe();
      for (const client of small.clients) client.terminate();
      await new Promise<void>((resolve) => small.close(() => resolve()));
    }
  });

  it('a synchronous route that ignores demand is stopped at the first value beyond the credit', async () => {
    const socket = await connect();
    // a synchronous route within its credit completes; and the socket has the server's limits now, so the next stream
    // opens with its whole credit (the first stream on a socket opens with 1)
    expect(await lastValueFrom(requestStream(socket, { kind: 'echo', value: 7 }, of(1)))).toBe(7);
    const demand = new Demand();
    demand.request(3);
    const values: unknown[] = [];
    const error = await new Promise<unknown>((resolve) =>
      requestStream(socket, { kind: 'sync-forever' }, demand).subscribe({
        next: (v) => values.push(v),
        error: resolve,
      }),
    );
    expect(values).toEqual([0, 1, 2]);
    expect((error as Error).message).toMatch(/beyond the client's credit/);
    expect(seen.running).toBe(0);
  });

  it('a route that ignores demand ends its stream with an error naming the fix, not a buffer', async () => {
    const socket = await connect();
    // a first stream, so the socket has the server's limits and the next opens with its whole credit
    expect(await lastValueFrom(requestStream(socket, { kind: 'echo', value: 7 }, of(1)))).toBe(7);
    const demand = new Demand();
    demand.request(2);
    const values: unknown[] = [];
    const error = await new Promise<unknown>((resolve) =>
      requestStream(socket, { kind: 'interval' }, demand).subscribe({ next: (v) => values.push(v), error: resolve }),
    );
    expect(values).toEqual([0, 1]);
    expect((error as Error).message).toMatch(/beyond the client's credit.*pull/);
    expect(isProtocolError(error)).toBe(false);
  });

  it('a socket that closes errors every open stream on the client and unsubscribes every route on the server', async () => {
    const socket = await connect();
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      requestStream(socket, { kind: 'count', delay: 5 }).subscribe({ error: (e) => errors.push(e) });
    }
    await until(() => seen.running === 3, 'three routes');
    const [connection] = [...server.clients].filter((c) => c.readyState === WebSocket.OPEN).slice(-1);
    connection!.terminate();
    await until(() => errors.length === 3, 'three errors');
    expect(errors.every((e) => /socket closed/.test((e as Error).message))).toBe(true);
    await until(() => seen.running === 0, 'routes unsubscribed');
    // a later subscription on the closed socket errors at once
    const late = await lastValueFrom(requestStream(socket, { kind: 'count' })).catch((e: unknown) => e);
    expect((late as Error).message).toMatch(/closed/);
  });

  it('the client closing its socket unsubscribes the routes on the server', async () => {
    const socket = await connect();
    requestStream(socket, { kind: 'count', delay: 5 }).subscribe({ error: () => undefined });
    await until(() => seen.running === 1, 'one route');
    socket.close();
    await until(() => seen.running === 0, 'route unsubscribed');
  });

  it('works on a socket that has only on/off (EventEmitter style), and waits for a connecting socket to open', async () => {
    const raw = new WebSocket(url);
    sockets.push(raw);
    const emitterOnly: WebSocketLike = {
      get readyState() {
        return raw.readyState;
      },
      send: (data) => raw.send(data),
      close: (code, reason) => raw.close(code, reason),
      on: (event, fn) => raw.on(event, fn as never),
      off: (event, fn) => raw.off(event, fn as never),
    };
    expect(raw.readyState).toBe(WebSocket.CONNECTING);
    const values = await lastValueFrom(requestStream<number>(emitterOnly, { kind: 'count', limit: 5 }).pipe(toArray()));
    expect(values).toEqual([0, 1, 2, 3, 4]);
  });
});

/** A raw client: sends whatever it is given, records the frames it gets and how the socket closed. */
async function rawClient(): Promise<{ socket: WebSocket; frames: Record<string, unknown>[]; closed: Promise<number> }> {
  const socket = await connect();
  const frames: Record<string, unknown>[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  return { socket, frames, closed };
}

describe('serveStreams: a client that breaks the protocol is cut off', () => {
  const FLOOD = 100_000;
  const cases: [string, (i: number) => string, string][] = [
    ['unrequested values (next frames)', (i) => JSON.stringify({ type: 'next', id: 1, value: i }), 'malformed'],
    [
      'request(n) frames past maxCredit',
      (i) => JSON.stringify({ type: i === 0 ? 'open' : 'request', id: 1, n: 1000, request: { kind: 'count' } }),
      'max-credit',
    ],
    [
      'streams past maxStreams',
      (i) => JSON.stringify({ type: 'open', id: i + 1, request: { kind: 'count' } }),
      'max-streams',
    ],
    ['frames that are not JSON', () => '{"type": "request", ', 'malformed'],
    [
      'request(0)',
      (i) =>
        JSON.stringify(
          i === 0 ? { type: 'open', id: 1, request: { kind: 'count' } } : { type: 'request', id: 1, n: 0 },
        ),
      'credit',
    ],
    [
      'request(1.5)',
      (i) =>
        JSON.stringify(
          i === 0 ? { type: 'open', id: 1, request: { kind: 'count' } } : { type: 'request', id: 1, n: 1.5 },
        ),
      'credit',
    ],
    ['an id already open', () => JSON.stringify({ type: 'open', id: 7, request: { kind: 'count' } }), 'stream-id'],
  ];
  it.each(cases)(
    '%s: an error frame, the socket closed (1002), no route beyond the bounds, bounded memory',
    async (_, make, reason) => {
      const { socket, frames, closed } = await rawClient();
      const heapBefore = process.memoryUsage().heapUsed;
      for (let i = 0; i < FLOOD && socket.readyState === WebSocket.OPEN; i++) socket.send(make(i));
      const code = await closed;
      expect(code).toBe(1002);
      const error = frames.find((f) => f['type'] === 'error' && f['id'] === undefined);
      expect(error).toMatchObject({ type: 'error', reason });
      expect(seen.routes).toBeLessThanOrEqual(8); // maxStreams
      await until(() => seen.running === 0, 'its routes unsubscribed');
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    },
  );
});

describe('requestStream: a server that breaks the protocol', () => {
  let raw: WebSocketServer;
  let rawUrl: string;
  let behave: (socket: WebSocket, open: Record<string, unknown>) => void = () => undefined;
  beforeAll(async () => {
    raw = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    raw.on('connection', (socket) =>
      socket.on('message', (data) => {
        const f = JSON.parse(String(data)) as Record<string, unknown>;
        if (f['type'] === 'open') behave(socket, f);
      }),
    );
    await new Promise<void>((resolve) => raw.once('listening', () => resolve()));
    rawUrl = `ws://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const c of raw.clients) c.terminate();
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  });

  async function against(
    behaviour: typeof behave,
    demand: Demand,
  ): Promise<{ values: unknown[]; error: ProtocolError; code: number }> {
    behave = behaviour;
    const socket = new WebSocket(rawUrl);
    sockets.push(socket);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const values: unknown[] = [];
    const error = await new Promise<ProtocolError>((resolve) =>
      requestStream(socket, 'feed', demand).subscribe({ next: (v) => values.push(v), error: resolve }),
    );
    return { values, error, code: await closed };
  }

  it('10^5 values beyond the credit: the first extra one errors the stream with ProtocolError, the socket is cut', async () => {
    const demand = new Demand();
    demand.request(3);
    const heapBefore = process.memoryUsage().heapUsed;
    const { values, error, code } = await against((socket, open) => {
      for (let i = 0; i < 100_000 && socket.readyState === WebSocket.OPEN; i++) {
        socket.send(JSON.stringify({ type: 'next', id: open['id'], value: i }));
      }
    }, demand);
    // a server that sends no limits frame: the client opened with 1 credit and tops up to the 3 requested once it has
    // heard from the server; this one floods at once, so the value beyond the credit is the second (the flood came in
    // one read) or the fourth (value 0 came alone and the top-up went out first): never more than the 3 requested
    expect([[0], [0, 1, 2]]).toContainEqual(values);
    expect(isProtocolError(error)).toBe(true);
    expect(error.reason).toBe('unrequested');
    expect(code).toBe(1002);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('a frame for a stream never opened, and a malformed frame: ProtocolError', async () => {
    const demand = new Demand();
    demand.request(1);
    const stray = await against((socket) => socket.send(JSON.stringify({ type: 'next', id: 99, value: 1 })), demand);
    expect(stray.error.reason).toBe('stream-id');
    const garbage = await against((socket) => socket.send('not json'), new Demand());
    expect(garbage.error.reason).toBe('malformed');
  });

  it('a server that says the client broke the protocol: ProtocolError (reason peer)', async () => {
    const told = await against(
      (socket) => socket.send(JSON.stringify({ type: 'error', reason: 'max-credit', message: 'too much' })),
      new Demand(),
    );
    expect(told.error.reason).toBe('peer');
    expect(told.error.message).toMatch(/max-credit.*too much/);
  });
});

describe('options', () => {
  const socket = { readyState: 1, send: () => undefined, close: () => undefined, on: () => undefined } as WebSocketLike;
  it('serveStreams rejects bad options at the call', () => {
    expect(() => serveStreams(socket, route, { maxStreams: 0 })).toThrow(RangeError);
    expect(() => serveStreams(socket, route, { maxStreams: 0 })).toThrow(
      /serveStreams: maxStreams must be a positive integer, got 0/,
    );
    expect(() => serveStreams(socket, route, { maxCredit: 1.5 })).toThrow(/maxCredit/);
    expect(() => serveStreams(socket, route, { bogus: 1 } as never)).toThrow(TypeError);
    expect(() => serveStreams(socket, 'route' as never)).toThrow(/serveStreams: route must be a function/);
    expect(() => serveStreams({} as never, route)).toThrow(/serveStreams: socket must be a WebSocket/);
  });
  it('requestStream rejects what is not a socket, and a demand that is not one', () => {
    expect(() => requestStream(null as never)).toThrow(TypeError);
    expect(() => requestStream(socket, 'x', 'nope' as never)).toThrow(/requestStream: demand must be/);
  });
});
