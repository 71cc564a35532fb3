import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Subject, defer, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { isBufferOverflowError, pull, toReadableStream } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function counted(n: number): { gen: AsyncGenerator<number>; produced: () => number; closed: () => boolean } {
  let produced = 0;
  let closed = false;
  const gen = (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        produced++;
        yield i;
      }
    } finally {
      closed = true;
    }
  })();
  return { gen, produced: () => produced, closed: () => closed };
}

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const reader = stream.getReader();
  const out: T[] = [];
  for (;;) {
    const step = await reader.read();
    if (step.done) return out;
    out.push(step.value);
  }
}

describe('toReadableStream', () => {
  it('subscribes at the first read(), not at creation', async () => {
    let subscriptions = 0;
    const stream = toReadableStream(defer(() => (subscriptions++, of('a'))));
    await tick();
    expect(subscriptions).toBe(0);
    expect(await readAll(stream)).toEqual(['a']);
    expect(subscriptions).toBe(1);
  });

  it('over pull(): reads at most capacity ahead of the reader, and a slow reader sees capacity read ahead', async () => {
    const source = counted(100);
    const reader = toReadableStream(pull(source.gen), { capacity: 3 }).getReader();
    let received = 0;
    for (let i = 0; i < 5; i++) {
      expect(await reader.read()).toEqual({ done: false, value: i });
      received++;
      for (let k = 0; k < 10; k++) await tick();
      expect(source.produced()).toBe(received + 3);
    }
    await reader.cancel();
  });

  it('values in order, then done, for many values', async () => {
    const values = await readAll(toReadableStream(pull(counted(300).gen), { capacity: 5 }));
    expect(values).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('cancel() unsubscribes: the generator finally runs, values held are reported cancelled', async () => {
    const source = counted(100);
    const drops: Dropped<number>[] = [];
    const reader = toReadableStream(pull(source.gen), { capacity: 2, onDrop: (d) => drops.push(d) }).getReader();
    expect(await reader.read()).toEqual({ done: false, value: 0 });
    for (let k = 0; k < 10; k++) await tick();
    await reader.cancel();
    await tick();
    expect(source.closed()).toBe(true);
    expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['1:cancelled', '2:cancelled']);
  });

  it('an upstream error errors the stream after the values before it', async () => {
    const source = new Subject<number>();
    const reader = toReadableStream(source).getReader();
    const first = reader.read();
    await tick(); // the stream calls pull() once its start has settled
    source.next(1);
    source.next(2);
    const boom = new Error('boom');
    source.error(boom);
    expect(await first).toEqual({ done: false, value: 1 });
    expect(await reader.read()).toEqual({ done: false, value: 2 });
    await expect(reader.read()).rejects.toBe(boom);
  });

  it("a push source past capacity: 'error' reports the value, stops the source, reads what was held, then errors", async () => {
    const source = new Subject<string>();
    const drops: Dropped<string>[] = [];
    const reader = toReadableStream(source, { capacity: 2, onDrop: (d) => drops.push(d) }).getReader();
    const first = reader.read();
    await tick();
    for (const v of ['a', 'b', 'c', 'd']) source.next(v);
    expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['d:overflow']);
    expect(source.observed).toBe(false);
    expect((await first).value).toBe('a');
    expect((await reader.read()).value).toBe('b');
    expect((await reader.read()).value).toBe('c');
    expect(await reader.read().catch((e: unknown) => e)).toSatisfy(isBufferOverflowError);
  });

  it("'drop-oldest' keeps the newest capacity values of a push source", async () => {
    const source = new Subject<number>();
    const stream = toReadableStream(source, { capacity: 2, overflow: 'drop-oldest' });
    const reader = stream.getReader();
    const first = reader.read();
    await tick();
    for (let i = 0; i < 6; i++) source.next(i);
    source.complete();
    expect((await first).value).toBe(0);
    reader.releaseLock();
    expect(await readAll(stream)).toEqual([4, 5]);
  });

  it('pipes into a Node Writable through Readable.fromWeb with the generator bounded', async () => {
    const source = counted(200);
    let written = 0;
    let maxAhead = 0;
    const sink = new Writable({
      objectMode: true,
      highWaterMark: 2,
      write(value: number, _encoding, callback) {
        written++;
        maxAhead = Math.max(maxAhead, source.produced() - written);
        setImmediate(callback);
      },
    });
    await pipeline(
      Readable.fromWeb(toReadableStream(pull(source.gen), { capacity: 4 }) as never, {
        objectMode: true,
        highWaterMark: 1,
      }),
      sink,
    );
    expect(written).toBe(200);
    // at most: the bridge's 4 + 1 pending read, Readable.fromWeb's buffer of 1 and the Writable's 2
    expect(maxAhead).toBeLessThanOrEqual(4 + 1 + 1 + 2 + 1);
  });

  it('rejects bad options at the call', () => {
    expect(() => toReadableStream(of(1), { capacity: -1 })).toThrow(
      new RangeError('toReadableStream: capacity must be a positive integer, got -1'),
    );
    expect(() => toReadableStream(of(1), { overflow: 'drop' as never })).toThrow(TypeError);
    expect(() => toReadableStream('abc' as never)).toThrow(/toReadableStream: source must be an Observable/);
  });
});
