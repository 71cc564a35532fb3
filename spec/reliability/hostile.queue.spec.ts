/**
 * Issue 15, the queue and pull side: hostile callback results, iterators and readers that misbehave, values re-sent
 * from onDrop while an operator is failing. Each case failed on the code before the ledger and the formatter.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, bufferBounded, dropOnFull, pull, shedByPriority } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';

const unprintable = [
  ['Object.create(null)', () => Object.create(null) as unknown],
  [
    'an object whose toString throws',
    () => ({
      toString() {
        throw new Error('no string for you');
      },
    }),
  ],
  ['a BigInt', () => 10n],
  ['a Symbol', () => Symbol('s')],
] as const;

function run(operator: (onDrop: (d: Dropped<string>) => void, metrics: QueueMetrics, demand: Demand) => never) {
  const source = new Subject<string>();
  const drops: string[] = [];
  const errors: unknown[] = [];
  const metrics = new QueueMetrics();
  const demand = new Demand();
  source.pipe(operator((d) => drops.push(`${d.value}:${d.reason}`), metrics, demand)).subscribe({
    error: (e) => errors.push(e),
  });
  return { source, drops, errors, metrics };
}

describe('a callback result String() cannot convert errors the stream and loses nothing (issue 15 item 1)', () => {
  it.each(unprintable)('shedByPriority priority returning %s', (_, bad) => {
    const { source, drops, errors, metrics } = run(
      (onDrop, metrics, demand) =>
        shedByPriority<string>({
          capacity: 5,
          priority: (v) => (v === 'c' ? (bad() as number) : 1),
          onDrop,
          metrics,
          demand,
        }) as never,
    );
    source.next('a');
    source.next('b');
    source.next('c');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RangeError);
    expect((errors[0] as Error).message).toMatch(/^shedByPriority: priority must return a finite number, got /);
    // queued values, then the arrival, all 'error' (not 'cancelled'); nothing lost
    expect(drops).toEqual(['a:error', 'b:error', 'c:error']);
    expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
  });

  it.each(unprintable)('dropOnFull earlyDrop returning %s', (_, bad) => {
    const { source, drops, errors, metrics } = run(
      (onDrop, metrics, demand) =>
        dropOnFull<string>({
          capacity: 5,
          earlyDrop: (fill) => (fill > 0.3 ? (bad() as number) : 0),
          onDrop,
          metrics,
          demand,
        }) as never,
    );
    source.next('a');
    source.next('b');
    source.next('c');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RangeError);
    expect((errors[0] as Error).message).toMatch(/^dropOnFull: earlyDrop must return a probability in \[0, 1\], got /);
    expect(drops).toEqual(['a:error', 'b:error', 'c:error']);
    expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
  });
});

describe('values re-sent from onDrop while an operator is failing are reported (issue 15 item 9)', () => {
  it('bufferBounded overflow: every value re-sent from onDrop is received and reported', () => {
    const source = new Subject<number>();
    const drops: string[] = [];
    const errors: unknown[] = [];
    const metrics = new QueueMetrics();
    let resent = 0;
    source
      .pipe(
        bufferBounded({
          capacity: 2,
          demand: new Demand(),
          metrics,
          onDrop: (d) => {
            drops.push(`${d.value}:${d.reason}`);
            if (resent < 2) source.next(100 + resent++); // retry on drop, while the overflow is being reported
          },
        }),
      )
      .subscribe({ error: (e) => errors.push(e) });
    source.next(1);
    source.next(2);
    source.next(3); // overflows
    expect(errors).toHaveLength(1);
    expect(drops.sort()).toEqual(['1:error', '100:error', '101:error', '2:error', '3:error'].sort());
    expect(metrics.enqueued).toBe(5);
    expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
  });

  it("an onDrop that throws while the overflow is reported becomes the cause of the stream's error", () => {
    const source = new Subject<number>();
    const errors: unknown[] = [];
    const broken = new Error('onDrop broke');
    source
      .pipe(
        bufferBounded({
          capacity: 1,
          demand: new Demand(),
          onDrop: () => {
            throw broken;
          },
        }),
      )
      .subscribe({ error: (e) => errors.push(e) });
    source.next(1);
    source.next(2);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).name).toBe('BufferOverflowError');
    expect((errors[0] as Error).cause).toBe(broken);
  });
});

describe('pull() with iterators and readers that misbehave (issue 15 item 8)', () => {
  const badSteps = [null, undefined, 3, 'x'];

  it.each(badSteps)('a sync iterator whose next() returns %s errors the stream with a TypeError', (step) => {
    const iterable = { [Symbol.iterator]: () => ({ next: () => step as never }) };
    const errors: unknown[] = [];
    pull(iterable as Iterable<number>).subscribe({ error: (e) => errors.push(e) });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error).message).toMatch(/^pull: the iterator's next\(\) must return an object, got /);
  });

  it.each(badSteps)(
    'an async iterator whose next() resolves to %s errors the stream with a TypeError',
    async (step) => {
      const iterable = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(step as never) }) };
      const error = await new Promise((resolve) =>
        pull(iterable as AsyncIterable<number>).subscribe({ error: resolve }),
      );
      expect(error).toBeInstanceOf(TypeError);
    },
  );

  it("an iterator whose return() throws does not make unsubscribe() throw; the generator's consumer has left", () => {
    const iterable = {
      [Symbol.iterator]: () => ({
        next: () => ({ done: false, value: 1 }),
        return: () => {
          throw new Error('return broke');
        },
      }),
    };
    const subscription = pull(iterable as Iterable<number>, new Demand()).subscribe();
    expect(() => subscription.unsubscribe()).not.toThrow();
  });

  it('an async iterator whose return() throws synchronously does not make unsubscribe() throw', () => {
    const iterable = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>(() => undefined),
        return: () => {
          throw new Error('return broke');
        },
      }),
    };
    const subscription = pull(iterable as AsyncIterable<number>).subscribe();
    expect(() => subscription.unsubscribe()).not.toThrow();
  });

  it('a stream reader whose cancel() throws synchronously, or rejects, does not make unsubscribe() throw', async () => {
    for (const cancel of [
      () => {
        throw new Error('cancel broke');
      },
      () => Promise.reject(new Error('cancel rejected')),
    ]) {
      const stream = {
        getReader: () => ({ read: () => new Promise(() => undefined), cancel, releaseLock: () => undefined }),
      };
      const subscription = pull(stream as unknown as ReadableStream<number>).subscribe();
      expect(() => subscription.unsubscribe()).not.toThrow();
    }
    await new Promise((r) => setTimeout(r, 10)); // a rejection left unhandled would fail the run here
  });
});
