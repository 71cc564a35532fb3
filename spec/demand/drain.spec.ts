import {
  BehaviorSubject,
  asyncScheduler,
  Observable,
  Subject,
  Subscription,
  defer,
  delay,
  distinctUntilChanged,
  endWith,
  filter,
  map,
  mergeMap,
  of,
  repeat,
  retry,
  skip,
  take,
  tap,
  throttleTime,
  throwError,
  toArray,
} from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  Demand,
  adaptiveBuffer,
  bufferBounded,
  drain,
  dropOnFull,
  isBufferOverflowError,
  pull,
  shedByPriority,
  throttleTokenBucket,
} from '../../src/index.js';
import type { Dropped } from '../../src/index.js';
import { dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

/** A generator that records how far it has been read. */
function reads<T>(values: readonly T[], log: T[]): Generator<T> {
  return (function* () {
    for (const v of values) {
      log.push(v);
      yield v;
    }
  })();
}

describe('drain', () => {
  describe('linking to a queue operator with no Demand written by hand', () => {
    it('dropOnFull + drain: the queue fills while the drain is busy and drops beyond capacity', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        // a goes straight to the drain (credit 1); b, c wait; at 5 a's project ends and b goes; d fills the queue
        // (c, d); e finds it full and is dropped; f queues behind d; each project takes 4 frames.
        const source = hot('  -a-b-c-d-e-f-|');
        const drops = dropLane<string>();
        const project = (x: string) => cold('---x|', { x });
        const output = source.pipe(dropOnFull({ capacity: 2, onDrop: drops.onDrop }), drain(project));
        expectObservable(output).toBe('----a---b---c---d---f|');
        expectObservable(drops.reasons$).toBe('---------e', { e: 'e:overflow' });
        expectSubscriptions(source.subscriptions).toBe('^------------!');
      });
    });

    it('bufferBounded + drain with concurrency 2: two run, the rest wait, nothing is lost', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        // a and b run at once (credit 2); c and d wait in the queue; a's project ends at 6 and c goes; b's at 8, d goes.
        const source = hot('  -a-b-c-d--|');
        const project = (x: string) => cold('----x|', { x });
        const output = source.pipe(bufferBounded({ capacity: 2 }), drain(project, { concurrency: 2 }));
        // a: result 5, ends 6 (c goes); b: result 7, ends 8 (d goes); c: result 10; d: result 12, ends 13
        expectObservable(output).toBe('-----a-b--c-d|');
      });
    });

    it('adaptiveBuffer + drain: the same queue as dropOnFull while its capacity holds (here for the whole run)', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot('  -a-b-c-d-e-f-|');
        const drops = dropLane<string>();
        const project = (x: string) => cold('---x|', { x });
        const output = source.pipe(
          adaptiveBuffer({ minCapacity: 1, maxCapacity: 2, targetLatency: 1000, interval: 1000, onDrop: drops.onDrop }),
          drain(project),
        );
        expectObservable(drops.reasons$).toBe('---------e', { e: 'e:overflow' });
        expectObservable(output).toBe('----a---b---c---d---f|');
      });
    });

    it('shedByPriority + drain: the most important waiting value goes next', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot('  -l-m-h-|', { l: 1, m: 2, h: 3 });
        const project = (x: number) => cold('------x|', { x });
        const output = source.pipe(shedByPriority({ capacity: 5, priority: (x) => x }), drain(project));
        // l runs from 1 to 8; m and h wait; h (priority 3) goes before m.
        expectObservable(output).toBe('-------l------h------m|', { l: 1, m: 2, h: 3 });
      });
    });

    it('a queue linked to a drain never holds more than its capacity plus what the drain runs', async () => {
      const events = new Subject<number>();
      const drops: Dropped<number>[] = [];
      let running = 0;
      let maxRunning = 0;
      const done = new Promise<void>((resolve) =>
        events
          .pipe(
            dropOnFull({ capacity: 100, onDrop: (d) => drops.push(d) }),
            drain(
              async () => {
                running++;
                maxRunning = Math.max(maxRunning, running);
                await new Promise((r) => setTimeout(r, 1));
                running--;
              },
              { concurrency: 4 },
            ),
          )
          .subscribe({ complete: resolve }),
      );
      for (let i = 0; i < 5000; i++) events.next(i);
      events.complete();
      await done;
      expect(maxRunning).toBe(4);
      // 4 taken by the drain at once, 100 queued: the other 4896 are dropped as they arrive
      expect(drops).toHaveLength(5000 - 104);
      expect(new Set(drops.map((d) => d.reason))).toEqual(new Set(['overflow']));
    });
  });

  describe('linking to pull()', () => {
    it('reads the generator only as fast as the projects end', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const read: string[] = [];
        const project = (x: string) => cold('--x|', { x });
        const output = pull(reads(['a', 'b', 'c'], read)).pipe(drain(project));
        // a read at 0, b when a's project ends (3), c at 6; the generator is found done at 9.
        expectObservable(output).toBe('--a--b--c|');
      });
    });

    it('filter between pull and drain: swallowed values give their credit back, no stall', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const project = (x: string) => cold('-x|', { x });
        const output = pull(['a', 'b', 'c', 'd', 'e']).pipe(
          filter((x) => x !== 'b' && x !== 'c'),
          drain(project),
        );
        // a at 0 (result 1, ends 2); b and c are swallowed within the same call that reads d.
        expectObservable(output).toBe('-a-d-e|');
      });
    });

    it('a filter that swallows more than 4096 values in a row goes on after a pause of one frame per 4096', () => {
      testScheduler().run(({ expectObservable }) => {
        const input = Array.from({ length: 10_000 }, (_, i) => i);
        const output = pull(input).pipe(
          filter((x) => x % 5000 === 4999),
          drain((x: number) => of(x), { concurrency: 4 }),
        );
        // 0..4095 are swallowed at 0 with their credit given back; the next 4 swallowed hold the 4 credits back
        // until frame 1, where 4100..4998 are swallowed and 4999 passes; likewise 9999 at frame 2, and the array's
        // end at once
        expectObservable(output).toBe('-a(b|)', { a: 4999, b: 9999 });
      });
    });

    it("the README's diagram: a filter between pull and drain", () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const output = pull(['a', 'b', 'c', 'd']).pipe(
          filter((x) => x !== 'b'),
          drain((x: string) => cold('--x|', { x })),
        );
        expectObservable(output).toBe('--a--c--d|');
      });
    });

    it.each([
      ['take', take<number>(3), [0, 1, 2]],
      ['skip', skip<number>(7), [7, 8, 9]],
      // "equal" to the last value let through when one more than it: every other value is swallowed
      ['distinctUntilChanged', distinctUntilChanged<number>((last, x) => x - last === 1), [0, 2, 4, 6, 8]],
      ['filter', filter<number>((x) => x % 3 === 0), [0, 3, 6, 9]],
    ] as const)(
      '%s between pull and drain completes with every value it lets through',
      async (_, operator, expected) => {
        const seen: number[] = [];
        await new Promise<void>((resolve, reject) =>
          pull([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
            .pipe(
              operator,
              drain(
                async (x) => {
                  await Promise.resolve();
                  seen.push(x);
                },
                { concurrency: 2 },
              ),
            )
            .subscribe({ complete: resolve, error: reject }),
        );
        expect(seen).toEqual(expected);
      },
    );

    it('throttleTime between pull and drain swallows within the window and does not stall', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const project = (x: number) => cold('-x|', { x });
        const output = pull([0, 1, 2, 3, 4]).pipe(throttleTime(3), drain(project));
        // 0 passes at 0 and its project ends at 2; there 1 is read, within the window of 0 (0..3), swallowed: its
        // credit comes back in the same call, so 2, 3 and 4 are read (and swallowed) at once, and the end is found.
        expectObservable(output).toBe('-0|', { 0: 0 });
      });
    });

    it('throttleTokenBucket in drop mode between pull and drain: its drops give credit back', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const drops = dropLane<number>();
        const project = (x: number) => cold('-x|', { x });
        const output = pull([1, 2, 3, 4]).pipe(
          throttleTokenBucket({ rate: 1, per: 10, burst: 2, mode: 'drop', onDrop: drops.onDrop }),
          drain(project),
        );
        // 1 and 2 are paid for by the full bucket (1 at 0, 2 when 1's project ends at 2); 3 and 4 find it empty at 4
        // and are dropped in the same call; the generator then ends.
        expectObservable(output).toBe('-1-2|', { 1: 1, 2: 2 });
        expectObservable(drops.reasons$).toBe('----(ab)', { a: '3:rate', b: '4:rate' });
      });
    });

    it('an operator that unsubscribes its source before forwarding the value (as rxjs 8 take does)', () => {
      // rxjs 8's take(n) unsubscribes upstream, then forwards the n-th value: the value in transit still pays for
      // its credit, and is not taken for a second value of the same emission.
      const takeUnsubscribingFirst =
        (count: number) =>
        <T>(source: Observable<T>): Observable<T> =>
          new Observable<T>((subscriber) => {
            let seen = 0;
            const upstream = new Subscription();
            upstream.add(
              source.subscribe({
                next: (value) => {
                  if (++seen < count) return subscriber.next(value);
                  upstream.unsubscribe();
                  subscriber.next(value);
                  subscriber.complete();
                },
                error: (e) => subscriber.error(e),
                complete: () => subscriber.complete(),
              }),
            );
            return upstream;
          });
      testScheduler().run(({ cold, expectObservable }) => {
        const output = pull(['a', 'b', 'c', 'd']).pipe(
          takeUnsubscribingFirst(2),
          drain((x: string) => cold('-x|', { x })),
        );
        expectObservable(output).toBe('-a-b|'); // take completed at 2; b's project ends at 4
      });
    });

    it("throttleTokenBucket 'shape' with maxWait between pull and drain: expired values free their room, no stall", () => {
      const drops: [number, string, number][] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        const output = pull([1, 2, 3, 4]).pipe(
          throttleTokenBucket({
            rate: 1,
            per: 10,
            burst: 1,
            capacity: 2,
            maxWait: 3,
            onDrop: (d) => drops.push([d.value, d.reason, d.at]),
          }),
          drain((x: number) => cold('x|', { x })),
        );
        // 1 is paid by the full bucket and done at once; 2 and 3 (read as room frees) cannot be paid before 10, so
        // they expire when their wait reaches 3; their room lets 4 be read at 3, which expires at 6; the generator
        // is found done, and the stream completes when the last value has expired.
        expectObservable(output).toBe('1-----|', { 1: 1 });
      });
      expect(drops).toEqual([
        [2, 'expired', 3],
        [3, 'expired', 3],
        [4, 'expired', 6],
      ]);
    });

    it('toArray between pull and drain: the one value emitted at completion is taken', async () => {
      const seen: number[][] = [];
      await new Promise<void>((resolve, reject) =>
        pull([1, 2, 3])
          .pipe(
            toArray(),
            drain(async (xs) => {
              seen.push(xs);
            }),
          )
          .subscribe({ complete: resolve, error: reject }),
      );
      expect(seen).toEqual([[1, 2, 3]]);
    });
  });

  describe('operators that do not fit between a producer and its drain make it error, naming the cause', () => {
    it('several values for one (mergeMap to two)', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const drops = dropLane<string>();
        const output = pull(['a']).pipe(
          mergeMap((x) => of(x, x.toUpperCase())),
          drain((x: string) => cold('-x|', { x }), { onDrop: drops.onDrop }),
        );
        // the first (in flight) and the second (the arrival) are both reported (the lane is watched first: the
        // drops happen while the output is subscribed)
        expectObservable(drops.reasons$).toBe('(aA)', { a: 'a:error', A: 'A:error' });
        expectObservable(output).toBe('#', undefined, expect.objectContaining({ name: 'BufferOverflowError' }));
      });
      const errors: unknown[] = [];
      pull(['a'])
        .pipe(
          mergeMap((x) => of(x, x)),
          drain(() => new Promise(() => undefined)),
        )
        .subscribe({ error: (e) => errors.push(e) });
      expect(isBufferOverflowError(errors[0])).toBe(true);
      expect((errors[0] as Error).message).toContain('emits several values for one');
    });

    it('a delaying operator (delay)', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const output = pull(['a', 'b']).pipe(
          delay(5),
          drain((x: string) => cold('-x|', { x })),
        );
        // a and b are swallowed at 0 (credit back), then arrive late at 5: the drain errors at once
        expectObservable(output).toBe(
          '-----#',
          undefined,
          expect.objectContaining({ message: expect.stringContaining('delays values') }),
        );
      });
    });

    it('a delaying operator after a synchronous producer that never ends: the drain errors, reads are bounded', () => {
      let read = 0;
      function* naturals(): Generator<number> {
        while (read < 10_000) yield read++; // a bound, so a regression fails instead of hanging
      }
      testScheduler().run(({ cold, expectObservable }) => {
        const output = pull(naturals()).pipe(
          delay(1),
          drain((x: number) => cold('-x|', { x }), { concurrency: 4 }),
        );
        // delay swallows every emission (credit back) until 4096 in a row; the next 4 hold the 4 credits back for a
        // frame, so the producer waits, and the first delayed value arrives at 1, late: the drain errors there
        expectObservable(output).toBe(
          '-#',
          undefined,
          expect.objectContaining({ message: expect.stringContaining('delays values') }),
        );
      });
      expect(read).toBe(4096 + 4);
    });

    it('a delaying operator after an async producer that never ends: the drain errors, reads are bounded', async () => {
      let read = 0;
      async function* naturals(): AsyncGenerator<number> {
        while (read < 200_000) yield read++; // resolves in microtasks: without the pause no timer would ever fire
      }
      const error = await new Promise<unknown>((resolve) => {
        pull(naturals())
          .pipe(
            delay(5),
            drain((x: number) => of(x), { concurrency: 4 }),
          )
          .subscribe({ error: resolve, complete: () => resolve(undefined) });
      });
      expect(isBufferOverflowError(error)).toBe(true);
      expect((error as Error).message).toContain('delays values');
      expect(read).toBeLessThan(200_000);
    });

    it('an operator that adds a value at the end (endWith) when no credit is left', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const drops = dropLane<string>();
        const output = pull(['a', 'b']).pipe(
          endWith('z'),
          drain((x: string) => cold('-x|', { x }), { onDrop: drops.onDrop }),
        );
        // concurrency 1: a at 0 (out at 1, done at 2); the next credit at 2 takes b, the array's last value, so pull
        // completes at once and endWith sends z with no credit left: the drain errors at 2, b (in flight) and z
        // reported, and the message names the operator kind rather than "nothing upstream obeys demand"
        expectObservable(output).toBe(
          '-a#',
          { a: 'a' },
          expect.objectContaining({
            name: 'BufferOverflowError',
            message: expect.stringMatching(/as its producer ended, with no credit left .*endWith/),
          }),
        );
        expectObservable(drops.reasons$).toBe('--(bz)', { b: 'b:error', z: 'z:error' });
      });
    });

    it('values added after the producer ended are taken within the credit still outstanding, on rxjs 7 and 8', () => {
      // pull over a one-element array with credit 4 ends while it is subscribed; rxjs 7's concat sends z once that end
      // has been signalled, rxjs 8's while it is. Either way 3 credits are outstanding, so z is taken like a value
      const seen: string[] = [];
      const errors: unknown[] = [];
      let completed = false;
      pull(['a'])
        .pipe(
          endWith('z'),
          drain((x: string) => of(x), { concurrency: 4 }),
        )
        .subscribe({ next: (x) => seen.push(x), error: (e) => errors.push(e), complete: () => (completed = true) });
      expect({ seen, errors, completed }).toEqual({ seen: ['a', 'z'], errors: [], completed: true });
    });

    it('values added after the producer ended beyond the outstanding credit make the drain error, naming endWith', () => {
      // concurrency 2 and projects that never end: a takes one permit, y the other, z has none
      const errors: unknown[] = [];
      const drops: Dropped<string>[] = [];
      pull(['a'])
        .pipe(
          endWith('y', 'z'),
          drain((_: string) => new Observable<string>(), { concurrency: 2, onDrop: (d) => drops.push(d) }),
        )
        .subscribe({ error: (e) => errors.push(e) });
      expect(errors).toHaveLength(1);
      expect(isBufferOverflowError(errors[0])).toBe(true);
      // rxjs 7 sends y and z after the end (a late value), rxjs 8 while it is signalled: both messages name endWith
      expect((errors[0] as Error).message).toMatch(/endWith/);
      expect(drops.map((d) => d.value).sort()).toEqual(['a', 'y', 'z']);
    });

    it('an unlinked drain takes `concurrency` values and errors on the next', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const drops = dropLane<string>();
        const source = hot('-a-b-c-|');
        const output = source.pipe(drain((x) => cold('------x|', { x }), { concurrency: 2, onDrop: drops.onDrop }));
        expectObservable(output).toBe(
          '-----#',
          undefined,
          expect.objectContaining({ message: expect.stringContaining('did not request (concurrency 2)') }),
        );
        // a and b in flight, c the arrival: all reported 'error'
        expectObservable(drops.reasons$).toBe('-----(abc)', { a: 'a:error', b: 'b:error', c: 'c:error' });
      });
    });
  });

  describe('each subscription links afresh', () => {
    it('retry after the drain resubscribes producer and drain with a new link', async () => {
      let attempt = 0;
      const seen: number[] = [];
      await new Promise<void>((resolve, reject) =>
        defer(() => pull([1, 2, 3]))
          .pipe(
            drain(async (x) => {
              if (x === 2 && ++attempt < 3) throw new Error('flaky');
              seen.push(x);
            }),
            retry(5),
          )
          .subscribe({ complete: resolve, error: reject }),
      );
      expect(seen).toEqual([1, 1, 1, 2, 3]);
    });

    it('retry between producer and drain links the resubscribed producer', async () => {
      let subscriptions = 0;
      const seen: number[] = [];
      await new Promise<void>((resolve, reject) =>
        defer(() => {
          subscriptions++;
          return pull([1, 2, 3]);
        })
          .pipe(
            mergeMap((x) => (x === 2 && subscriptions < 3 ? throwError(() => new Error('flaky')) : of(x))),
            retry(5),
            drain(async (x) => {
              seen.push(x);
            }),
          )
          .subscribe({ complete: resolve, error: reject }),
      );
      expect(subscriptions).toBe(3);
      expect(seen).toEqual([1, 1, 1, 2, 3]);
    });

    it('repeat between producer and drain links every round', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const output = defer(() => pull(['a', 'b'])).pipe(
          repeat(2),
          drain((x: string) => cold('-x|', { x })),
        );
        expectObservable(output).toBe('-a-b-a-b|');
      });
    });

    it('two subscribers of one pipeline each get their own link and pace', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const pipeline = defer(() => pull(['a', 'b'])).pipe(drain((x: string) => cold('-x|', { x })));
        const slow = defer(() => pull(['a', 'b'])).pipe(drain((x: string) => cold('---x|', { x })));
        expectObservable(pipeline).toBe('-a-b|');
        expectObservable(slow).toBe('---a---b|');
      });
    });
  });

  describe('onError', () => {
    it("'stop' (default): the stream errors; the others in flight are reported 'cancelled'", () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const drops = dropLane<string>();
        const project = (x: string) => (x === 'b' ? cold('-#') : cold('---x|', { x }));
        const output = pull(['a', 'b', 'c']).pipe(drain(project, { concurrency: 2, onDrop: drops.onDrop }));
        expectObservable(output).toBe('-#');
        expectObservable(drops.reasons$).toBe('-(ab)', { a: 'a:cancelled', b: 'b:error' });
      });
    });

    it("'continue': the failing value is reported 'failed' with its error, and the next one is taken", () => {
      const failures: Dropped<string>[] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        const boom = new Error('boom');
        const project = (x: string) => (x === 'b' ? cold('-#', undefined, boom) : cold('-x|', { x }));
        const output = pull(['a', 'b', 'c']).pipe(
          drain(project, { onError: 'continue', onDrop: (d) => failures.push(d) }),
        );
        // a 0..2, b fails at 3, c read at 3: result at 4, ends 5
        expectObservable(output).toBe('-a--c|');
      });
      expect(failures).toEqual([
        { value: 'b', reason: 'failed', at: 3, error: expect.objectContaining({ message: 'boom' }) },
      ]);
    });

    it("'continue' with a project that throws synchronously and one that rejects", async () => {
      const failures: [unknown, string, string][] = [];
      const seen: number[] = [];
      await new Promise<void>((resolve, reject) =>
        pull([1, 2, 3, 4])
          .pipe(
            drain(
              (x) => {
                if (x === 2) throw new Error('sync');
                if (x === 3) return Promise.reject(new Error('async'));
                return Promise.resolve(x * 10);
              },
              { onError: 'continue', onDrop: (d) => failures.push([d.value, d.reason, (d.error as Error).message]) },
            ),
          )
          .subscribe({ next: (v) => seen.push(v), complete: resolve, error: reject }),
      );
      expect(seen).toEqual([10, 40]);
      expect(failures).toEqual([
        [2, 'failed', 'sync'],
        [3, 'failed', 'async'],
      ]);
    });
  });

  describe('ordered', () => {
    it('emits results in input order while up to `concurrency` projects run', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        // a takes 5 frames, b 1, c 2: b and c end first but wait for a; a's slot frees c's read.
        const time: Record<string, string> = { a: '----a|', b: 'b|', c: '-c|' };
        const output = pull(['a', 'b', 'c']).pipe(
          drain((x: string) => cold(time[x]!), { concurrency: 2, ordered: true }),
        );
        // a and b start at 0; b emits at 0 and ends at 1, held behind a (its slot stays taken); a emits at 4 and ends
        // at 5: a's slot frees (c is read), then b's held result goes out and b's slot frees too; c emits at 6, ends 7.
        expectObservable(output).toBe('----abc|');
      });
    });

    it('never runs more than `concurrency` projects, counting finished ones still held', () => {
      let running = 0;
      let maxRunning = 0;
      let held = 0;
      const order: number[] = [];
      return new Promise<void>((resolve, reject) =>
        pull([50, 1, 1, 1, 1, 1])
          .pipe(
            tap(() => held++),
            drain(
              async (ms) => {
                running++;
                maxRunning = Math.max(maxRunning, running, held);
                await new Promise((r) => setTimeout(r, ms));
                running--;
                return ms;
              },
              { concurrency: 2, ordered: true },
            ),
            tap(() => held--),
          )
          .subscribe({
            next: (v) => order.push(v),
            complete: () => {
              expect(order).toEqual([50, 1, 1, 1, 1, 1]);
              expect(maxRunning).toBeLessThanOrEqual(2);
              resolve();
            },
            error: reject,
          }),
      );
    });
  });

  describe('ordered: values whose project is over but whose results wait behind an earlier one', () => {
    // Principle 2: every value ends once, emitted or reported. A finished value held behind a running one has not
    // been emitted, so when the stream ends before its turn it is reported like any value in flight.
    type Drop = [string, string, number];
    const record = (drops: Drop[]) => (d: Dropped<string>) => void drops.push([d.value, d.reason, d.at]);

    it('unsubscribed: the running value and the finished, held one are both reported cancelled', () => {
      const drops: Drop[] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        // a runs 5 frames; b emits at 0 and ends at 1, held behind a; c is never read (b still holds its slot)
        const time: Record<string, string> = { a: '-----a|', b: 'b|', c: 'c|' };
        const output = pull(['a', 'b', 'c']).pipe(
          drain((x: string) => cold(time[x]!), { concurrency: 2, ordered: true, onDrop: record(drops) }),
        );
        expectObservable(output, '---!').toBe('---');
      });
      expect(drops).toEqual([
        ['a', 'cancelled', 3],
        ['b', 'cancelled', 3],
      ]);
    });

    it("onError 'stop': the failing value is reported once and the finished, held one cancelled", () => {
      const drops: Drop[] = [];
      const boom = new Error('boom');
      testScheduler().run(({ cold, expectObservable }) => {
        const time: Record<string, string> = { a: '--#', b: 'b|', c: 'c|' };
        const output = pull(['a', 'b', 'c']).pipe(
          drain((x: string) => cold(time[x]!, undefined, boom), {
            concurrency: 2,
            ordered: true,
            onDrop: record(drops),
          }),
        );
        expectObservable(output).toBe('--#', undefined, boom);
      });
      expect(drops).toHaveLength(2);
      expect(drops).toEqual(
        expect.arrayContaining([
          ['a', 'error', 2],
          ['b', 'cancelled', 2],
        ]),
      );
    });

    it("onError 'continue': a failed value held behind a running one is not reported again when the stream ends", () => {
      const drops: Drop[] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        const time: Record<string, string> = { a: '-----a|', b: '#', c: 'c|' };
        const output = pull(['a', 'b', 'c']).pipe(
          drain((x: string) => cold(time[x]!), {
            concurrency: 2,
            ordered: true,
            onError: 'continue',
            onDrop: (d) => void drops.push([d.value, d.reason, d.at]),
          }),
        );
        expectObservable(output, '---!').toBe('---');
      });
      expect(drops).toEqual([
        ['b', 'failed', 0],
        ['a', 'cancelled', 3],
      ]);
    });
  });

  describe('project results without an inner subscription', () => {
    it('an array: its elements, then the next value', () => {
      testScheduler().run(({ expectObservable }) => {
        const output = pull([1, 2]).pipe(drain((x) => [x, x * 10]));
        expectObservable(output).toBe('(abcd|)', { a: 1, b: 10, c: 2, d: 20 });
      });
    });

    it('an iterable (a Set, a generator)', () => {
      testScheduler().run(({ expectObservable }) => {
        const output = pull([1, 2]).pipe(drain((x) => new Set([x, x + 1])));
        expectObservable(output).toBe('(abbc|)', { a: 1, b: 2, c: 3 });
      });
    });
  });

  describe('unsubscription', () => {
    it("reports the values in flight 'cancelled' and stops the producer", () => {
      const read: string[] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        const drops = dropLane<string>();
        const output = pull(reads(['a', 'b', 'c'], read)).pipe(
          drain((x: string) => cold('----x|', { x }), { concurrency: 2, onDrop: drops.onDrop }),
        );
        expectObservable(output, '^--!').toBe('---');
        expectObservable(drops.reasons$).toBe('---(ab)', { a: 'a:cancelled', b: 'b:cancelled' });
      });
      expect(read).toEqual(['a', 'b']);
    });
  });

  describe('a ConcurrencyLimiter written by hand ({ limit, limit$ }, the exported interface)', () => {
    const handMade = (initial: number) => {
      const limit$ = new BehaviorSubject(initial);
      return {
        limit$,
        limiter: {
          get limit() {
            return limit$.value;
          },
          limit$: limit$.asObservable(),
        },
      };
    };

    it('runs at most `limit` projects at once', () => {
      const starts: [string, number][] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        const { limiter } = handMade(2);
        const output = pull(['a', 'b', 'c', 'd']).pipe(
          drain(
            (x: string) =>
              defer(() => {
                starts.push([x, asyncScheduler.now() - base]);
                return cold('---(x|)', { x });
              }),
            { concurrency: limiter },
          ),
        );
        const base = asyncScheduler.now();
        // a and b take the two permits at 0 and end at 3, when c and d take them
        expectObservable(output.pipe(toArray())).toBe('------(l|)', { l: ['a', 'b', 'c', 'd'] });
      });
      expect(starts).toEqual([
        ['a', 0],
        ['b', 0],
        ['c', 3],
        ['d', 3],
      ]);
    });

    it('a higher limit on limit$ lets waiting values start at once', () => {
      const starts: [string, number][] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        const { limit$, limiter } = handMade(1);
        const base = asyncScheduler.now();
        const output = pull(['a', 'b', 'c']).pipe(
          drain(
            (x: string) =>
              defer(() => {
                starts.push([x, asyncScheduler.now() - base]);
                return cold('-----(x|)', { x });
              }),
            { concurrency: limiter },
          ),
        );
        cold('--r').subscribe(() => limit$.next(3));
        // a alone from 0; the limit rises to 3 at 2: b and c start then, all end by 7
        expectObservable(output.pipe(toArray())).toBe('-------(l|)', { l: ['a', 'b', 'c'] });
      });
      expect(starts).toEqual([
        ['a', 0],
        ['b', 2],
        ['c', 2],
      ]);
    });

    it('shared by two drains, it bounds the sum of their projects', () => {
      let running = 0;
      let most = 0;
      const results: number[][] = [];
      testScheduler().run(({ cold }) => {
        const { limiter } = handMade(2);
        const work = (x: number) =>
          defer(() => {
            running++;
            most = Math.max(most, running);
            return cold('--(x|)', { x });
          }).pipe(tap({ finalize: () => running-- }));
        for (const values of [
          [1, 2, 3],
          [4, 5, 6],
        ]) {
          pull(values)
            .pipe(drain(work, { concurrency: limiter }), toArray())
            .subscribe((out) => results.push(out));
        }
      });
      expect(results).toEqual(
        expect.arrayContaining([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      );
      expect(results).toHaveLength(2);
      expect(most).toBe(2);
    });
  });

  describe('options', () => {
    it.each([
      [{ concurrency: 0 }, RangeError, 'drain: concurrency must be a positive integer or Infinity, got 0'],
      [{ concurrency: 1.5 }, RangeError, 'drain: concurrency must be a positive integer or Infinity, got 1.5'],
      [
        { concurrency: '2' },
        TypeError,
        'drain: concurrency must be a positive integer, Infinity or a ConcurrencyLimiter ({ limit, limit$ }), got "2"',
      ],
      [
        { concurrency: { limit: 2 } },
        TypeError,
        'drain: concurrency must be a positive integer, Infinity or a ConcurrencyLimiter ({ limit, limit$ }), got an object',
      ],
      [{ ordered: 1 }, TypeError, 'drain: ordered must be a boolean, got 1'],
      [{ onError: 'retry' }, TypeError, "drain: onError must be one of 'stop', 'continue', got \"retry\""],
      [{ onDrop: 3 }, TypeError, 'drain: onDrop must be a function or an Observer, got 3'],
      [{ unknown: 1 }, TypeError, 'drain: unknown option "unknown"'],
    ])('rejects %o at the call', (options, kind, message) => {
      expect(() => drain((x) => of(x), options as never)).toThrow(kind);
      expect(() => drain((x) => of(x), options as never)).toThrow(message);
    });

    it('rejects a project that is not a function', () => {
      expect(() => drain(3 as never)).toThrow(new TypeError('drain: project must be a function, got 3'));
    });
  });
});

describe('Demand.credits$', () => {
  it('shows every credit as it is requested, without taking any', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const demand = new Demand();
      const output = pull(['a', 'b', 'c'], demand).pipe(demand.drain((x: string) => cold('-x|', { x })));
      // the drain asks for 1 at subscription and 1 more as each project ends while upstream runs; the array completes
      // with c (at 4), so when c's project ends at 6 nothing more is asked
      expectObservable(demand.credits$).toBe('1-1-1', { 1: 1 });
      expectObservable(output).toBe('-a-b-c|');
    });
  });

  it('is hot: a watcher sees only the credits requested after it subscribed', () => {
    const demand = new Demand();
    const seen: number[] = [];
    demand.request(2);
    demand.credits$.subscribe((n) => seen.push(n));
    demand.request(3);
    const taken: number[] = [];
    demand.subscribe((n) => taken.push(n));
    expect(seen).toEqual([3]);
    expect(taken).toEqual([5]);
  });
});

describe('map and tap between a producer and its drain keep the link', () => {
  it('pull -> map -> tap -> drain', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const output = pull([1, 2]).pipe(
        map((x) => x * 2),
        tap(() => undefined),
        drain((x: number) => cold('-x|', { x })),
      );
      expectObservable(output).toBe('-a-b|', { a: 2, b: 4 });
    });
  });
});
