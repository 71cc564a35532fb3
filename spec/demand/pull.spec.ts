import { Readable } from 'node:stream';
import { NEVER, Observable, of, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, bufferBounded, pull } from '../../src/index.js';
import { CREDITS } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

/** Lets pending promise callbacks (async iterator steps) run. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('pull', () => {
  describe('over a synchronous iterable', () => {
    it('emits one element per credit, in marble time; a generator completes when asked for one more', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const demand = hot('--1----2------1--1', CREDITS);
        function* letters() {
          yield* ['a', 'b', 'c', 'd'];
        }
        // the generator's end is known only by reading past d, which takes the credit at 17
        expectObservable(pull(letters(), demand)).toBe('--a----(bc)---d--|');
      });
    });

    it('an array completes with its last element, with no credit left (its end is known without a read)', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const demand = hot('--1----2------1--1', CREDITS);
        expectObservable(pull(['a', 'b', 'c', 'd'], demand)).toBe('--a----(bc)---(d|)');
        expectObservable(pull(['a', 'b'], hot('--2', CREDITS))).toBe('--(ab|)');
        expectObservable(pull([], hot('---', CREDITS))).toBe('|');
      });
    });

    it('an array that grows while it is read is read to its length at the time', () => {
      const input = [1, 2];
      const out: number[] = [];
      let completed = false;
      pull(input).subscribe({
        next: (v) => {
          out.push(v);
          if (v === 1) input.push(3);
        },
        complete: () => (completed = true),
      });
      expect(out).toEqual([1, 2, 3]);
      expect(completed).toBe(true);
    });

    it('reads nothing before credit and exactly n elements for request(n)', () => {
      let advanced = 0;
      function* counter() {
        for (;;) yield ++advanced;
      }
      const demand = new Demand();
      const out: number[] = [];
      pull(counter(), demand).subscribe((v) => out.push(v));
      expect(advanced).toBe(0);
      demand.request(3);
      expect(out).toEqual([1, 2, 3]);
      expect(advanced).toBe(3);
    });

    it('calls return() on unsubscribe', () => {
      let returned = false;
      function* endless() {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          returned = true;
        }
      }
      const demand = new Demand();
      const subscription = pull(endless(), demand).subscribe();
      demand.request(2);
      subscription.unsubscribe();
      expect(returned).toBe(true);
    });

    it('stops a synchronous read loop when unsubscribed downstream (Infinity credit)', () => {
      let advanced = 0;
      function* counter() {
        for (;;) yield ++advanced;
      }
      const out: number[] = [];
      pull(counter(), of(Infinity))
        .pipe(take(4))
        .subscribe((v) => out.push(v));
      expect(out).toEqual([1, 2, 3, 4]);
      expect(advanced).toBe(4);
    });

    it('errors when the iterator throws, and when a credit is illegal', () => {
      function* failing() {
        yield 1;
        throw new Error('producer failed');
      }
      const errors: string[] = [];
      pull(failing(), of(5)).subscribe({ error: (e: Error) => errors.push(e.message) });
      pull([1, 2], of(0)).subscribe({ error: (e: Error) => errors.push(e.message) });
      expect(errors).toEqual(['producer failed', 'pull: demand credit must be a positive integer or Infinity, got 0']);
    });

    it('trampolines request() inside next: 10^6 elements, constant stack', () => {
      const demand = new Demand();
      let count = 0;
      function* many() {
        for (let i = 0; i < 1_000_000; i++) yield i;
      }
      let completed = false;
      pull(many(), demand).subscribe({
        next: () => {
          count++;
          demand.request(1);
        },
        complete: () => (completed = true),
      });
      demand.request(1);
      expect(count).toBe(1_000_000);
      expect(completed).toBe(true);
    });
  });

  describe('over an async generator', () => {
    it('keeps the generator suspended at yield while no credit is outstanding', async () => {
      let advanced = 0;
      async function* producer() {
        for (;;) {
          advanced++;
          yield advanced;
        }
      }
      const demand = new Demand();
      const out: number[] = [];
      pull(producer(), demand).subscribe((v) => out.push(v));
      await settle();
      expect(advanced).toBe(0);
      demand.request(2);
      await settle();
      expect(out).toEqual([1, 2]);
      expect(advanced).toBe(2);
      await settle();
      expect(advanced).toBe(2); // not advanced without credit
      demand.request(1);
      await settle();
      expect(out).toEqual([1, 2, 3]);
      expect(advanced).toBe(3);
    });

    it('calls return() on unsubscribe, running the generator finally block', async () => {
      let finalized = false;
      async function* producer() {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          finalized = true;
        }
      }
      const demand = new Demand();
      const subscription = pull(producer(), demand).subscribe();
      demand.request(1);
      await settle();
      subscription.unsubscribe();
      await settle();
      expect(finalized).toBe(true);
    });

    it('completes when the generator returns and errors when it throws', async () => {
      async function* three() {
        yield 1;
        yield 2;
        yield 3;
      }
      async function* failing() {
        yield 1;
        throw new Error('async failure');
      }
      const events: string[] = [];
      pull(three(), of(Infinity)).subscribe({ next: (v) => events.push(`n${v}`), complete: () => events.push('c') });
      pull(failing(), of(Infinity)).subscribe({ error: (e: Error) => events.push(e.message) });
      await settle();
      expect(events.filter((e) => e !== 'async failure')).toEqual(['n1', 'n2', 'n3', 'c']);
      expect(events).toContain('async failure');
    });

    it('blocks a producer behind bufferBounded with upstream: at most capacity produced ahead of the consumer', async () => {
      let produced = 0;
      async function* producer() {
        for (;;) yield ++produced;
      }
      const upstream = new Demand();
      const consumer = new Demand();
      const out: number[] = [];
      pull(producer(), upstream)
        .pipe(bufferBounded({ capacity: 5, upstream, demand: consumer }))
        .subscribe((v) => out.push(v));
      await settle(50);
      expect(out).toEqual([]);
      expect(produced).toBe(5);
      consumer.request(3);
      await settle(50);
      expect(out).toEqual([1, 2, 3]);
      expect(produced).toBe(8);
    });
  });

  describe('over a Node Readable', () => {
    it('stops reading the stream while there is no credit, and destroys it on unsubscribe', async () => {
      let reads = 0;
      const readable = new Readable({
        objectMode: true,
        highWaterMark: 2,
        read() {
          reads++;
          this.push(reads);
        },
      });
      const demand = new Demand();
      const out: number[] = [];
      const subscription = pull<number>(readable, demand).subscribe((v) => out.push(v));
      demand.request(3);
      await settle(50);
      expect(out).toEqual([1, 2, 3]);
      const readsAfter = reads;
      // The stream buffers up to its highWaterMark, then _read is no longer called.
      expect(readsAfter).toBeLessThanOrEqual(3 + 2 + 1);
      await settle(50);
      expect(reads).toBe(readsAfter);
      subscription.unsubscribe();
      await settle();
      expect(readable.destroyed).toBe(true);
    });
  });

  describe('over a WHATWG ReadableStream', () => {
    it('calls read() only for credit, and cancels the reader on unsubscribe', async () => {
      let pulls = 0;
      let cancelled = false;
      const stream = new ReadableStream<number>(
        {
          pull(controller) {
            controller.enqueue(++pulls);
          },
          cancel() {
            cancelled = true;
          },
        },
        { highWaterMark: 0 },
      );
      const demand = new Demand();
      const out: number[] = [];
      const subscription = pull(stream, demand).subscribe((v) => out.push(v));
      await settle();
      expect(pulls).toBe(0);
      demand.request(2);
      await settle();
      expect(out).toEqual([1, 2]);
      expect(pulls).toBe(2);
      subscription.unsubscribe();
      await settle();
      expect(cancelled).toBe(true);
    });

    it('completes when the stream closes', async () => {
      const stream = new ReadableStream<string>({
        start(controller) {
          controller.enqueue('a');
          controller.enqueue('b');
          controller.close();
        },
      });
      const events: string[] = [];
      pull(stream, of(Infinity)).subscribe({ next: (v) => events.push(v), complete: () => events.push('|') });
      await settle();
      expect(events).toEqual(['a', 'b', '|']);
    });
  });

  it('validates its arguments at the call', () => {
    expect(() => pull(42 as never, NEVER)).toThrow(TypeError);
    expect(() => pull(42 as never, NEVER)).toThrow(
      'pull: input must be an AsyncIterable, an Iterable or a ReadableStream',
    );
    expect(() => pull([1], 3 as never)).toThrow('pull: demand must be a Demand or an ObservableInput of credits');
    expect(() => pull([1], new Observable<number>())).not.toThrow();
  });
});
