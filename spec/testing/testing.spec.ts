import fc from 'fast-check';
import { Observable, asyncScheduler, filter, map, of, pipe } from 'rxjs';
import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, bufferBounded, dropOnFull, throttleTokenBucket } from 'rxjs-backpressure';
import { BREAKER_STATES, CREDITS, checkLaws, dropLane, toMarbles } from 'rxjs-backpressure/testing';
import type { TestMessage } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

const next = (frame: number, value: unknown): TestMessage => ({ frame, notification: { kind: 'N', value } });
const complete = (frame: number): TestMessage => ({ frame, notification: { kind: 'C' } });
const error = (frame: number, e: unknown = 'error'): TestMessage => ({ frame, notification: { kind: 'E', error: e } });

describe('CREDITS', () => {
  it('draws each digit as that many credits and i as unbounded; 0 is no credit', () => {
    expect(CREDITS).toEqual({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, i: Infinity });
    expect(CREDITS['0']).toBeUndefined();
    expect(Object.isFrozen(CREDITS)).toBe(true);
  });

  it('drives a queue operator from a hot marble of credits', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const demand = hot('  ----1---2---i', CREDITS);
      const source = cold(' -a-b-c-d-e-|');
      // a on the first credit, (bc) on the next two, then everything queued at once, then the rest as it comes
      expectObservable(source.pipe(dropOnFull({ capacity: 3, demand }))).toBe('----a---(bc)(de|)');
    });
  });
});

describe('BREAKER_STATES', () => {
  it('names the four states by their initial', () => {
    expect(BREAKER_STATES).toEqual({ c: 'closed', o: 'open', h: 'half-open', i: 'isolated' });
  });

  it('draws state$ (the JSDoc example)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const breaker = new CircuitBreaker({ scheduler });
      cold('--x').subscribe(() => breaker.isolate());
      expectObservable(breaker.state$, '^---!').toBe('c-i-', BREAKER_STATES);
    });
  });
});

describe('dropLane', () => {
  it('is the onDrop Subject, with values$, reasons$ and all (the JSDoc example)', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const drops = dropLane<string>();
      expect(drops.onDrop).toBe(drops);
      const demand = hot('  ----------1-1-1', CREDITS);
      const source = cold(' -a-b-c-d-|');
      const output = source.pipe(dropOnFull({ capacity: 2, overflow: 'drop-oldest', demand, onDrop: drops }));
      expectObservable(output).toBe('             ----------c-(d|)');
      expectObservable(drops.values$).toBe('      -----a-b');
      expectObservable(drops.reasons$).toBe('     -----x-y', { x: 'a:evicted', y: 'b:evicted' });
    });
  });

  it('keeps every drop in all, from the moment it is made', () => {
    const drops = dropLane<number>();
    const subscription = of(1, 2, 3)
      .pipe(dropOnFull({ capacity: 1, demand: [1], onDrop: drops.onDrop, scheduler: asyncScheduler }))
      .subscribe();
    subscription.unsubscribe();
    // 1 on the one credit, 2 queued (capacity 1), 3 rejected; 2 still queued when unsubscribed
    expect(drops.all.map((d) => [d.value, d.reason])).toEqual([
      [3, 'overflow'],
      [2, 'cancelled'],
    ]);
  });
});

describe('toMarbles', () => {
  it('draws values, groups, completion and errors at their frames', () => {
    expect(toMarbles([next(1, 'a'), next(3, 'b'), next(3, 'c'), complete(3)])).toBe('-a-(bc|)');
    expect(toMarbles([next(0, 'a'), error(2)])).toBe('a-#');
    expect(toMarbles([complete(0)])).toBe('|');
    expect(toMarbles([])).toBe('');
  });

  it('draws a value as its key in the values map, digits and Infinity as CREDITS does', () => {
    expect(toMarbles([next(0, { id: 1 }), next(1, { id: 2 })], { values: { x: { id: 1 }, y: { id: 2 } } })).toBe('xy');
    expect(toMarbles([next(0, 3), next(2, Infinity)])).toBe('3-i');
    expect(toMarbles([next(0, 'a')], { values: { z: 'a' } })).toBe('z');
  });

  it('gives other values a letter of their own, not one a value already draws as, with a legend', () => {
    expect(toMarbles([next(0, 'a'), next(1, { id: 7 }), next(2, { id: 7 }), next(3, 'long')])).toBe(
      'abbc   b = {"id":7}, c = "long"',
    );
    expect(toMarbles([next(0, { id: 7 })], { legend: false })).toBe('a');
  });

  it('puts an error that is not the expected one in the legend', () => {
    expect(toMarbles([error(1, new RangeError('boom'))])).toBe('-#   # = RangeError: boom');
    expect(toMarbles([error(1, 'x')], { error: 'x' })).toBe('-#');
  });

  it('uses time progression for long gaps, and frameTimeFactor outside run mode', () => {
    expect(toMarbles([next(0, 'a'), next(251, 'b')])).toBe('a 250ms b');
    expect(toMarbles([next(30, 'a'), complete(50)], { frameTimeFactor: 10 })).toBe('---a-|');
  });

  it('says in the legend when notifications are closer than a group is wide', () => {
    expect(toMarbles([next(1, 'a'), next(1, 'b'), next(2, 'c')])).toBe('-(ab)c   c at frame 2');
  });

  it('round-trips: what it draws, TestScheduler reads back as the same messages (fast-check)', () => {
    const event = fc.record({
      gap: fc.integer({ min: 0, max: 40 }),
      values: fc.array(fc.constantFrom('a', 'b', 'c', 'x', '1', '7'), { minLength: 1, maxLength: 3 }),
    });
    const end = fc.constantFrom('none', 'complete', 'error');
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), end, (events, last) => {
        const messages: TestMessage[] = [];
        let frame = 0;
        for (const { gap, values } of events) {
          frame += gap;
          for (const value of values) messages.push(next(frame, value));
          frame += values.length === 1 ? 1 : values.length + 2;
        }
        if (last === 'complete') messages.push(complete(frame));
        if (last === 'error') messages.push(error(frame));
        const drawn = toMarbles(messages);
        const values = { a: 'a', b: 'b', c: 'c', x: 'x', 1: '1', 7: '7' };
        // read back in run mode (1 ms per frame), as expectObservable(...).toBe(drawn, values) reads it
        const read = testScheduler().run(() => TestScheduler.parseMarbles(drawn, values, undefined, undefined, true));
        const plain = (m: { frame: number; notification: { kind: string; value?: unknown; error?: unknown } }) => [
          m.frame,
          m.notification.kind,
          m.notification.kind === 'E' ? m.notification.error : m.notification.value,
        ];
        expect(read.map(plain), drawn).toEqual(messages.map(plain));
      }),
    );
  });
});

describe('checkLaws', () => {
  afterEach(() => {
    vi.doUnmock('fast-check');
    vi.resetModules();
  });

  it('passes the library operators, wired through the context', async () => {
    await checkLaws(
      (ctx) => dropOnFull({ capacity: 3, demand: ctx.demand, onDrop: ctx.onDrop, scheduler: ctx.scheduler }),
      {
        capacity: 3,
      },
    );
    await checkLaws(
      (ctx) => bufferBounded({ capacity: 2, demand: ctx.demand, onDrop: ctx.onDrop, scheduler: ctx.scheduler }),
      {
        capacity: 2,
      },
    );
    await checkLaws(
      (ctx) =>
        throttleTokenBucket({
          rate: 1,
          per: 3,
          burst: 2,
          capacity: 4,
          maxWait: 9,
          onDrop: ctx.onDrop,
          scheduler: ctx.scheduler,
        }),
      { capacity: 4 },
    );
  });

  it('passes a user pipeline that transforms values, given identify (the JSDoc example)', async () => {
    await checkLaws(
      (ctx) =>
        pipe(
          throttleTokenBucket({
            rate: 1,
            per: 10,
            burst: 2,
            mode: 'drop',
            onDrop: ctx.onDrop,
            scheduler: ctx.scheduler,
          }),
          dropOnFull({ capacity: 3, demand: ctx.demand, onDrop: ctx.onDrop, scheduler: ctx.scheduler }),
          map((n: number) => ({ n })),
        ),
      { identify: (out) => out.n, capacity: 3 },
    );
  });

  it('fails an operator that drops a value silently: conservation', async () => {
    await expect(checkLaws(() => filter((n: number) => n % 3 !== 0))).rejects.toThrow(
      /checkLaws: conservation: after the stream \w+, 1 of 3 values were neither emitted nor reported to onDrop/,
    );
  });

  it('fails an operator that emits after it completed: nothing after the end', async () => {
    const late = (source: Observable<number>) =>
      new Observable<number>((subscriber) =>
        source.subscribe({
          next: (value) => subscriber.next(value),
          error: (e: unknown) => subscriber.error(e),
          complete: () => {
            subscriber.complete();
            subscriber.next(0);
          },
        }),
      );
    await expect(checkLaws(() => late)).rejects.toThrow(
      /checkLaws: nothing after the end: next\(0\) after the stream complete/,
    );
  });

  it('fails an operator that emits without credit: demand', async () => {
    const deaf = (demand: Observable<number>) => (source: Observable<number>) =>
      new Observable<number>((subscriber) => {
        const credits = demand.subscribe();
        subscriber.add(credits);
        return source.subscribe(subscriber);
      });
    await expect(checkLaws((ctx) => deaf(ctx.demand))).rejects.toThrow(
      /checkLaws: demand: 1 values emitted, 0 requested/,
    );
  });

  it('fails an operator that leaves a timer behind, and one that holds more than its capacity', async () => {
    const leaky = (scheduler: Parameters<typeof dropOnFull>[0]['scheduler']) => (source: Observable<number>) =>
      new Observable<number>((subscriber) => {
        scheduler?.schedule(() => undefined, 1_000); // not added to the subscription
        return source.subscribe(subscriber);
      });
    await expect(checkLaws((ctx) => leaky(ctx.scheduler))).rejects.toThrow(
      /checkLaws: nothing after the end: 1 timers left/,
    );
    await expect(
      checkLaws((ctx) => dropOnFull({ capacity: 3, demand: ctx.demand, onDrop: ctx.onDrop }), { capacity: 2 }),
    ).rejects.toThrow(/checkLaws: capacity: 3 values held, capacity 2/);
  });

  it('fails a drop of a value the source never sent, and a value reported twice', async () => {
    await expect(
      checkLaws((ctx) => (source: Observable<number>) => {
        ctx.onDrop({ value: -1, reason: 'overflow', at: 0 });
        return source;
      }),
    ).rejects.toThrow(/checkLaws: conservation: dropped -1, which the source never sent/);
    await expect(
      checkLaws(
        (ctx) => (source: Observable<number>) =>
          source.pipe(map((n) => (ctx.onDrop({ value: n, reason: 'overflow', at: 0 }), n))),
      ),
    ).rejects.toThrow(/checkLaws: conservation: 1 emitted after it was already dropped/);
  });

  it('fails an operator that completes twice, and one whose timer reschedules itself without time moving', async () => {
    const twice = (source: Observable<number>) =>
      new Observable<number>((subscriber) =>
        source.subscribe({
          next: (value) => subscriber.next(value),
          error: (e: unknown) => subscriber.error(e),
          complete: () => {
            subscriber.complete();
            subscriber.complete();
          },
        }),
      );
    await expect(checkLaws(() => twice)).rejects.toThrow(
      /checkLaws: nothing after the end: complete after the stream complete/,
    );
    const spinning = (scheduler: SchedulerLike) => (source: Observable<number>) =>
      new Observable<number>((subscriber) => {
        subscriber.add(
          scheduler.schedule(function (this: SchedulerAction<unknown>) {
            this.schedule(undefined, 0);
          }, 0),
        );
        return source.subscribe(subscriber);
      });
    await expect(checkLaws((ctx) => spinning(ctx.scheduler))).rejects.toThrow(/checkLaws: runaway scheduler/);
  });

  it('makes values with options.value, which must not repeat', async () => {
    const seen: string[] = [];
    await checkLaws(() => map((job: string) => (seen.push(job), job)), { value: (n) => `job-${n}`, runs: 20 });
    expect(seen.every((job) => /^job-\d+$/.test(job))).toBe(true);
    await expect(checkLaws(() => map((x: string) => x), { value: () => 'same' })).rejects.toThrow(
      'checkLaws: value(2) repeats an earlier value',
    );
  });

  it('replays a run from its seed, and refuses what is not an operator factory', async () => {
    const failure = (seed: number) =>
      checkLaws(() => filter((n: number) => n !== 2), { seed }).then(
        () => 'passed',
        (e: Error) => e.message.split('\n').find((line) => line.startsWith('Counterexample')),
      );
    expect(await failure(42)).toBe(await failure(42));
    await expect(checkLaws('dropOnFull' as never)).rejects.toThrow(TypeError);
  });

  it('without fast-check installed, says to install it', async () => {
    vi.resetModules();
    vi.doMock('fast-check', () => {
      throw new Error("Cannot find package 'fast-check'");
    });
    const { checkLaws: fresh } = await import('rxjs-backpressure/testing');
    await expect(fresh(() => map((n: number) => n))).rejects.toThrow(
      'checkLaws needs fast-check, an optional peer dependency of rxjs-backpressure: npm install --save-dev fast-check',
    );
  });
});
