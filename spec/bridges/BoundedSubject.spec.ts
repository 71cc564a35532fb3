import fc from 'fast-check';
import { Subject, asyncScheduler, config, map, mergeMap, of, timer } from 'rxjs';
import type { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BoundedSubject, Demand, QueueMetrics, drain } from '../../src/index.js';
import type { Dropped, OfferResult } from '../../src/index.js';
import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

/** Offers each value of a hot marble into the subject and draws the answers. */
const LETTERS: Record<OfferResult, string> = { delivered: 'd', queued: 'q', dropped: 'x', closed: 'c' };

describe('BoundedSubject', () => {
  describe('offer() answers at once', () => {
    it('the JSDoc case: queued up to capacity, then dropped; delivered as credit comes; closed after complete()', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const drops = dropLane<string>();
        const subject = new BoundedSubject<string>({
          capacity: 2,
          demand: hot('----------1-1-1', CREDITS),
          onDrop: drops.onDrop,
        });
        const offers = hot('-a-b-c-d-e-------f');
        const end = hot('   ---------------|');
        const answers = new Subject<string>();
        offers.subscribe((v) => answers.next(LETTERS[subject.offer(v)]));
        end.subscribe({ complete: () => subject.complete() });
        expectObservable(answers).toBe('-q-q-x-x-x-------c');
        expectObservable(subject).toBe('----------a-b--|');
        expectObservable(drops.reasons$).toBe('-----c-d-e-------f', {
          c: 'c:overflow',
          d: 'd:overflow',
          e: 'e:overflow',
          f: 'f:cancelled',
        });
      });
    });

    it("no demand and no linked drain: unbounded credit, every offer() is 'delivered'", () => {
      const subject = new BoundedSubject<number>({ capacity: 1 });
      const seen: number[] = [];
      subject.subscribe((v) => seen.push(v));
      expect([1, 2, 3].map((v) => subject.offer(v))).toEqual(['delivered', 'delivered', 'delivered']);
      expect(seen).toEqual([1, 2, 3]);
      expect(subject.size).toBe(0);
    });

    it("linked to a drain: 'delivered' while the drain has room, 'queued' up to capacity, then 'dropped'", () => {
      testScheduler().run(({ cold, expectObservable, flush }) => {
        const drops = dropLane<number>();
        const subject = new BoundedSubject<number>({ capacity: 2, onDrop: drops.onDrop });
        const output = subject.pipe(drain((x) => cold('---x|', { x }), { concurrency: 2 }));
        // 0 and 1 run at once (results at 3, done at 4), 2 and 3 wait, then run (results at 7); 4 and 5 find the
        // queue full; complete() at 11 ends the drain, which has nothing left
        expectObservable(output).toBe('---(ab)(cd)|', { a: 0, b: 1, c: 2, d: 3 });
        const answers: OfferResult[] = [];
        // offered at frame 0, once the drain is subscribed
        asyncScheduler.schedule(() => {
          for (let i = 0; i < 6; i++) answers.push(subject.offer(i));
        });
        asyncScheduler.schedule(() => subject.complete(), 11);
        flush();
        expect(answers).toEqual(['delivered', 'delivered', 'queued', 'queued', 'dropped', 'dropped']);
        expect(drops.all.map((d) => `${d.value}:${d.reason}`)).toEqual(['4:overflow', '5:overflow']);
      });
    });

    it("'drop-oldest' / 'drop-newest': the arrival is queued and another evicted", () => {
      for (const [overflow, out, evicted] of [
        ['drop-oldest', [2, 3], [0, 1]],
        ['drop-newest', [0, 3], [1, 2]],
      ] as const) {
        const demand = new Demand();
        const drops: Dropped<number>[] = [];
        const subject = new BoundedSubject<number>({ capacity: 2, overflow, demand, onDrop: (d) => drops.push(d) });
        const seen: number[] = [];
        subject.subscribe((v) => seen.push(v));
        expect([0, 1, 2, 3].map((v) => subject.offer(v))).toEqual(['queued', 'queued', 'queued', 'queued']);
        expect(subject.size).toBe(2);
        demand.request(5);
        expect(seen).toEqual(out);
        expect(drops.map((d) => d.value)).toEqual(evicted);
        expect(new Set(drops.map((d) => d.reason))).toEqual(new Set(['evicted']));
      }
    });

    it("after error(): queued values are reported 'error', the subscriber errors, offer() is 'closed'", () => {
      const demand = new Demand();
      const drops: Dropped<string>[] = [];
      const subject = new BoundedSubject<string>({ capacity: 3, demand, onDrop: (d) => drops.push(d) });
      const errors: unknown[] = [];
      subject.subscribe({ error: (e) => errors.push(e) });
      subject.offer('a');
      subject.offer('b');
      const boom = new Error('boom');
      subject.error(boom);
      expect(errors).toEqual([boom]);
      expect(subject.closed).toBe(true);
      expect(subject.offer('c')).toBe('closed');
      expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['a:error', 'b:error', 'c:cancelled']);
    });

    it("once its subscriber has gone: queued values 'cancelled', offer() 'closed' (reported 'cancelled')", () => {
      const drops: Dropped<number>[] = [];
      const subject = new BoundedSubject<number>({ capacity: 3, demand: new Demand(), onDrop: (d) => drops.push(d) });
      const subscription = subject.subscribe();
      expect(subject.offer(1)).toBe('queued');
      expect(subject.closed).toBe(false);
      subscription.unsubscribe();
      expect(subject.closed).toBe(true);
      expect(subject.offer(2)).toBe('closed');
      expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['1:cancelled', '2:cancelled']);
    });

    it("a pipeline that has died is 'closed': the producer learns it instead of pushing into nothing", () => {
      const subject = new BoundedSubject<number>({ capacity: 10 });
      const errors: unknown[] = [];
      subject
        .pipe(
          map((x) => {
            if (x === 2) throw new Error('bug downstream');
            return x;
          }),
        )
        .subscribe({ error: (e) => errors.push(e) });
      expect(subject.offer(1)).toBe('delivered');
      expect(subject.offer(2)).toBe('delivered'); // delivered, and it killed the pipeline
      expect(errors).toHaveLength(1);
      expect(subject.offer(3)).toBe('closed');
    });
  });

  it("an onDrop that throws on a value offered after the end goes to rxjs' onUnhandledError", () => {
    const boom = new Error('onDrop failed');
    const unhandled: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (error) => unhandled.push(error);
    try {
      const subject = new BoundedSubject<number>({
        capacity: 1,
        onDrop: () => {
          throw boom;
        },
      });
      subject.subscribe();
      subject.complete();
      expect(subject.offer(1)).toBe('closed');
      expect(unhandled).toEqual([boom]);
    } finally {
      config.onUnhandledError = previous;
    }
  });

  it('an onDrop that throws on a value dropped before the subscriber arrives errors the subject', () => {
    const boom = new Error('onDrop failed');
    const subject = new BoundedSubject<number>({
      capacity: 1,
      onDrop: (d) => {
        if (d.reason === 'overflow') throw boom;
      },
    });
    expect(subject.offer(1)).toBe('queued');
    expect(subject.offer(2)).toBe('dropped');
    expect(subject.closed).toBe(true);
    let error: unknown;
    subject.subscribe({ error: (e) => (error = e) });
    expect(error).toBe(boom);
  });

  it('unsubscription through mergeMap reaches it: its subscriber is gone, offer() is closed', () => {
    const subject = new BoundedSubject<number>({ capacity: 2, demand: new Demand() });
    const subscription = of(subject)
      .pipe(mergeMap((s) => s))
      .subscribe();
    expect(subject.offer(1)).toBe('queued');
    subscription.unsubscribe();
    expect(subject.offer(2)).toBe('closed');
  });

  describe('complete()', () => {
    it('the queued values still go out as credit arrives, then it completes', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const subject = new BoundedSubject<string>({ capacity: 5, demand: hot('----1--2', CREDITS) });
        hot('-a-b-c-|').subscribe({ next: (v) => subject.next(v), complete: () => subject.complete() });
        expectObservable(subject).toBe('----a--(bc|)');
      });
    });

    it('with nothing queued completes at once; later complete() and error() are ignored', () => {
      const subject = new BoundedSubject<number>({ capacity: 1 });
      const events: string[] = [];
      subject.subscribe({ complete: () => events.push('complete'), error: () => events.push('error') });
      subject.complete();
      subject.complete();
      subject.error(new Error('late'));
      expect(events).toEqual(['complete']);
    });
  });

  describe('one subscriber', () => {
    it('a second subscriber errors with TypeError; the first keeps receiving', () => {
      const subject = new BoundedSubject<number>({ capacity: 1 });
      const first: number[] = [];
      subject.subscribe((v) => first.push(v));
      let error: unknown;
      subject.subscribe({ error: (e) => (error = e) });
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^BoundedSubject: one subscriber only/);
      subject.offer(7);
      expect(first).toEqual([7]);
    });

    it('a subscriber after the first has gone errors with TypeError too', () => {
      const subject = new BoundedSubject<number>({ capacity: 1 });
      subject.subscribe().unsubscribe();
      let error: unknown;
      subject.subscribe({ error: (e) => (error = e) });
      expect(error).toBeInstanceOf(TypeError);
    });
  });

  describe('before its subscriber arrives', () => {
    it('values wait, up to capacity with the same overflow, and go to it in order when it subscribes', () => {
      const drops: Dropped<number>[] = [];
      const subject = new BoundedSubject<number>({ capacity: 2, onDrop: (d) => drops.push(d) });
      expect([1, 2, 3].map((v) => subject.offer(v))).toEqual(['queued', 'queued', 'dropped']);
      expect(subject.size).toBe(2);
      subject.complete();
      const seen: number[] = [];
      let completed = false;
      subject.subscribe({ next: (v) => seen.push(v), complete: () => (completed = true) });
      expect(seen).toEqual([1, 2]);
      expect(completed).toBe(true);
      expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['3:overflow']);
    });

    it('a value the subscriber offers while receiving the waiting ones goes after them', () => {
      const subject = new BoundedSubject<number>({ capacity: 3 });
      subject.offer(1);
      subject.offer(2);
      const seen: number[] = [];
      subject.subscribe((v) => {
        seen.push(v);
        if (v === 1) subject.offer(10);
      });
      expect(seen).toEqual([1, 2, 10]);
    });

    it("error() before it: the waiting values are reported 'error' at once, the subscriber gets the error", () => {
      const drops: Dropped<number>[] = [];
      const subject = new BoundedSubject<number>({ capacity: 2, onDrop: (d) => drops.push(d) });
      subject.offer(1);
      const boom = new Error('boom');
      subject.error(boom);
      expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['1:error']);
      let error: unknown;
      subject.subscribe({ error: (e) => (error = e) });
      expect(error).toBe(boom);
    });
  });

  describe('metrics', () => {
    it('enqueued = dequeued + dropped + depth after every step, under random offers, credits and endings', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.constantFrom('drop-incoming' as const, 'drop-oldest' as const, 'drop-newest' as const),
          fc.array(
            fc.oneof(
              fc.record({ kind: fc.constant('offer' as const) }),
              fc.record({ kind: fc.constant('credit' as const), n: fc.integer({ min: 1, max: 3 }) }),
              fc.record({ kind: fc.constant('subscribe' as const) }),
              fc.record({ kind: fc.constant('complete' as const) }),
              fc.record({ kind: fc.constant('unsubscribe' as const) }),
            ),
            { maxLength: 50 },
          ),
          (capacity, overflow, steps) => {
            const metrics = new QueueMetrics();
            const demand = new Demand();
            const drops: Dropped<number>[] = [];
            const subject = new BoundedSubject<number>({
              capacity,
              overflow,
              demand,
              metrics,
              onDrop: (d) => drops.push(d),
            });
            const seen: number[] = [];
            const answered = new Map<number, OfferResult>();
            let offered = 0;
            let subscription: Subscription | undefined;
            for (const step of steps) {
              if (step.kind === 'offer') {
                answered.set(offered, subject.offer(offered));
                offered++;
              } else if (step.kind === 'credit') demand.request(step.n);
              else if (step.kind === 'subscribe' && subscription === undefined)
                subscription = subject.subscribe((v) => seen.push(v));
              else if (step.kind === 'complete') subject.complete();
              else if (step.kind === 'unsubscribe') subscription?.unsubscribe();
              expect(subject.size).toBeLessThanOrEqual(capacity);
              expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
              if (subscription !== undefined) expect(metrics.depth).toBe(subject.size);
            }
            subscription?.unsubscribe();
            // every value offered ends once: received by the subscriber, reported, or still waiting for one
            const waiting = subscription === undefined ? subject.size : 0;
            expect(seen.length + drops.length + waiting).toBe(offered);
            expect(new Set([...seen, ...drops.map((d) => d.value)]).size).toBe(seen.length + drops.length);
            expect(seen).toEqual([...seen].sort((a, b) => a - b));
            // each answer is what happened to the value
            const reasonOf = new Map(drops.map((d) => [d.value, d.reason]));
            for (const [value, answer] of answered) {
              if (answer === 'delivered') expect(seen).toContain(value);
              if (answer === 'closed') expect(reasonOf.get(value)).toBe('cancelled');
              if (answer === 'dropped') expect(reasonOf.get(value)).toBe('overflow');
              if (answer === 'queued') expect(reasonOf.get(value) ?? 'kept').not.toBe('overflow');
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it('counts values offered after the end as received and dropped (cancelled)', () => {
      const metrics = new QueueMetrics();
      const subject = new BoundedSubject<number>({ capacity: 1, metrics });
      subject.subscribe();
      subject.complete();
      subject.offer(1);
      expect(metrics.snapshot()).toMatchObject({ enqueued: 1, dequeued: 0, dropped: 1, depth: 0 });
      expect(metrics.droppedBy('cancelled')).toBe(1);
    });
  });

  it('is an Observer: a source can subscribe it', async () => {
    const subject = new BoundedSubject<number>({ capacity: 4 });
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => subject.subscribe({ next: (v) => seen.push(v), complete: resolve }));
    of(1, 2, 3)
      .pipe(mergeMap((x) => timer(x).pipe(map(() => x))))
      .subscribe(subject);
    await done;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('reads capacity back, and rejects bad options at construction', () => {
    expect(new BoundedSubject({ capacity: 3 }).capacity).toBe(3);
    expect(() => new BoundedSubject({ capacity: 0 })).toThrow(
      new RangeError('BoundedSubject: capacity must be a positive integer, got 0'),
    );
    expect(() => new BoundedSubject({} as never)).toThrow(TypeError);
    expect(() => new BoundedSubject({ capacity: 1, overflow: 'error' as never })).toThrow(
      /BoundedSubject: overflow must be one of 'drop-incoming', 'drop-oldest', 'drop-newest'/,
    );
    expect(() => new BoundedSubject({ capacity: 1, demand: 'x' as never })).toThrow(TypeError);
    expect(() => new BoundedSubject(undefined as never)).toThrow(TypeError);
  });
});
