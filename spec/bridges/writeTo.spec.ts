import { Writable } from 'node:stream';
import { Observable, Subject, asyncScheduler, catchError, map, mergeMap, of, throwError } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { dropOnFull, isBufferOverflowError, pull, writeTo } from '../../src/index.js';
import type { WritableLike } from '../../src/index.js';
import { dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A Writable in virtual time, with Node's rules: write() returns false once `highWaterMark` values are buffered (the
 * one being written counts until its callback), one value is written every `frames` frames, 'drain' fires when the
 * buffer empties after write() returned false, end()'s callback fires once everything buffered is written.
 */
class VirtualWritable<T> implements WritableLike<T> {
  private readonly buffered: { value: T; cb?: (error?: Error | null) => void }[] = [];
  private busy = false;
  private needDrain = false;
  private drainListeners: (() => void)[] = [];
  private endCallback: (() => void) | undefined;
  readonly writes = new Subject<T>();

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly highWaterMark: number,
    private readonly frames: number,
  ) {}

  write(value: T, cb?: (error?: Error | null) => void): boolean {
    this.writes.next(value);
    this.buffered.push(cb === undefined ? { value } : { value, cb });
    if (!this.busy) this.next();
    const room = this.buffered.length < this.highWaterMark;
    if (!room) this.needDrain = true;
    return room;
  }

  once(_event: 'drain', fn: () => void): this {
    this.drainListeners.push(fn);
    return this;
  }

  end(cb?: () => void): this {
    this.endCallback = cb ?? (() => undefined);
    if (!this.busy) this.finish();
    return this;
  }

  private next(): void {
    this.busy = true;
    this.scheduler.schedule(() => {
      this.buffered.shift()!.cb?.();
      if (this.buffered.length > 0) {
        this.next();
        return;
      }
      this.busy = false;
      if (this.needDrain) {
        this.needDrain = false;
        const listeners = this.drainListeners;
        this.drainListeners = [];
        for (const fn of listeners) fn();
      }
      if (this.endCallback !== undefined && !this.busy) this.finish();
    }, this.frames);
  }

  private finish(): void {
    const cb = this.endCallback!;
    this.scheduler.schedule(() => {
      this.writes.complete();
      cb();
    });
  }
}

/** A slow object-mode Node Writable that records what it was given and the most it ever held. */
function slowWritable(highWaterMark: number, options: { fail?: number } = {}) {
  const written: number[] = [];
  let maxLength = 0;
  const sink = new (class extends Writable {
    override write(chunk: unknown, ...rest: never[]): boolean {
      const room = super.write(chunk, ...rest);
      maxLength = Math.max(maxLength, this.writableLength);
      return room;
    }
  })({
    objectMode: true,
    highWaterMark,
    write(value: number, _encoding, callback) {
      setImmediate(() => {
        if (options.fail === value) callback(new Error(`cannot write ${value}`));
        else {
          written.push(value);
          callback();
        }
      });
    },
  });
  return { sink, written, maxLength: () => maxLength };
}

function counted(n: number) {
  let produced = 0;
  let closed = false;
  const gen = (function* () {
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

function run(observable: Observable<never>): Promise<'complete'> {
  return new Promise((resolve, reject) => observable.subscribe({ complete: () => resolve('complete'), error: reject }));
}

describe('writeTo', () => {
  // inside TestScheduler.run(), asyncScheduler runs in virtual time: the VirtualWritable below writes on it
  describe('in virtual time', () => {
    it('writes while the sink has room, then waits for drain; completes when end() has called back', () => {
      testScheduler().run(({ expectObservable }) => {
        const sink = new VirtualWritable<string>(asyncScheduler, 2, 3);
        // a and b fill the sink (write(b) is false); a is written at 3, b at 6: drain, so c and d go; d's at 12:
        // drain, the generator is found done, end() is called and calls back at once
        const output = pull(['a', 'b', 'c', 'd']).pipe(writeTo(sink));
        expectObservable(sink.writes).toBe('(ab)--(cd)--|');
        expectObservable(output).toBe('------------|');
      });
    });

    it('a push source that sends while the sink has no room errors with BufferOverflowError, never buffers', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const sink = new VirtualWritable<string>(asyncScheduler, 1, 5);
        const source = hot('-a-b-c-|');
        // a fills the sink (highWaterMark 1); b arrives with no credit outstanding
        const output = source.pipe(
          writeTo(sink),
          catchError((e: unknown) => of(isBufferOverflowError(e) ? 'overflow' : 'other')),
        );
        expectObservable(output).toBe('---(x|)', { x: 'overflow' });
        expectObservable(sink.writes).toBe('-a----');
      });
    });

    it('a push source behind a queue operator: the queue holds and drops, the sink gets one value per room', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const sink = new VirtualWritable<string>(asyncScheduler, 1, 4);
        const source = hot('-a-b--c-d-|');
        const drops = dropLane<string>();
        // a at 1 fills the sink; b waits in the queue; a is written at 5: drain, b goes; c waits; d finds the queue
        // full: dropped; b is written at 9, c goes; the source completes at 10; c is written at 13: the sink finishes
        const output = source.pipe(dropOnFull({ capacity: 1, onDrop: drops.onDrop }), writeTo(sink));
        expectObservable(sink.writes).toBe('-a---b---c---|');
        expectObservable(drops.reasons$).toBe('--------d', { d: 'd:overflow' });
        expectObservable(output).toBe('-------------|');
      });
    });
  });

  describe('into a Node Writable', () => {
    it("never holds more than the Writable's highWaterMark, the generator at most one more ahead; order; finish", async () => {
      const hwm = 4;
      const { sink, written, maxLength } = slowWritable(hwm);
      const source = counted(500);
      let maxAhead = 0;
      const copy = pull(source.gen).pipe(
        map((x) => {
          maxAhead = Math.max(maxAhead, source.produced() - written.length);
          return x;
        }),
        writeTo(sink),
      );
      let finishedFirst = false;
      sink.once('finish', () => (finishedFirst = true));
      expect(await run(copy)).toBe('complete');
      expect(finishedFirst).toBe(true); // completes once the sink has finished
      expect(written).toEqual(Array.from({ length: 500 }, (_, i) => i));
      expect(maxLength()).toBe(hwm); // it filled the sink, and never past it
      expect(maxAhead).toBeLessThanOrEqual(hwm + 1);
      expect(sink.listenerCount('error')).toBe(0);
    });

    it('a Writable already full when subscribed is waited for (drain) before the first value is taken', async () => {
      const { sink, written } = slowWritable(2);
      sink.write(-2);
      expect(sink.write(-1)).toBe(false);
      const source = counted(3);
      const copy = run(pull(source.gen).pipe(writeTo(sink)));
      expect(source.produced()).toBe(0);
      await copy;
      expect(written).toEqual([-2, -1, 0, 1, 2]);
    });

    it('a byte-mode Writable: waits for drain after write() returned false', async () => {
      const chunks: string[] = [];
      let maxLength = 0;
      const sink = new Writable({
        highWaterMark: 8,
        write(chunk: Buffer, _encoding, callback) {
          maxLength = Math.max(maxLength, sink.writableLength);
          chunks.push(chunk.toString());
          setImmediate(callback);
        },
      });
      await run(pull(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']).pipe(writeTo(sink)));
      expect(chunks.join('')).toBe('aaaabbbbccccddddeeee');
      expect(maxLength).toBeLessThanOrEqual(8);
    });

    it('end: false leaves the sink open and completes once every write has called back', async () => {
      const { sink, written } = slowWritable(2);
      await run(pull([1, 2, 3, 4, 5]).pipe(writeTo(sink, { end: false })));
      expect(written).toEqual([1, 2, 3, 4, 5]);
      expect(sink.writableEnded).toBe(false);
      expect(sink.writable).toBe(true);
      sink.end();
    });

    it('a failing write reaches the subscriber as that error; the source is stopped; no uncaught error', async () => {
      const { sink, written } = slowWritable(2, { fail: 3 });
      const source = counted(100);
      const error = await run(pull(source.gen).pipe(writeTo(sink))).catch((e: unknown) => e);
      expect(error).toEqual(new Error('cannot write 3'));
      expect(written).toEqual([0, 1, 2]);
      expect(source.closed()).toBe(true);
      await tick(); // Node emits 'error' after the callback: with nobody listening it would crash the process
      expect(sink.destroyed).toBe(true);
    });

    it('a Writable destroyed before it has finished errors the copy instead of stalling it', async () => {
      const { sink } = slowWritable(1);
      const source = counted(1_000_000); // lazily: far more than can be written before the destroy below
      const copy = run(pull(source.gen).pipe(writeTo(sink)));
      await tick();
      sink.destroy();
      await expect(copy).rejects.toThrow('writeTo: the sink closed before it had finished');
      expect(source.closed()).toBe(true);
    });

    it('an upstream error errors the stream and leaves the sink as it is (not ended)', async () => {
      const { sink } = slowWritable(4);
      const boom = new Error('upstream');
      const errors = sink.listenerCount('error');
      await expect(run(throwError(() => boom).pipe(writeTo(sink)))).rejects.toBe(boom);
      expect(sink.writableEnded).toBe(false);
      expect(sink.listenerCount('error')).toBe(errors);
      expect(sink.listenerCount('close')).toBe(0);
    });

    it('unsubscribing stops the producer (its finally runs) and leaves the sink open, its listeners removed', async () => {
      const { sink } = slowWritable(2);
      const source = counted(1_000_000);
      const subscription = pull(source.gen).pipe(writeTo(sink)).subscribe();
      await tick();
      subscription.unsubscribe();
      expect(source.closed()).toBe(true);
      expect(source.produced()).toBeLessThan(1_000_000);
      expect(sink.writableEnded).toBe(false);
      expect(sink.listenerCount('error') + sink.listenerCount('close') + sink.listenerCount('drain')).toBe(0);
    });

    it('a synchronous source that ignores demand works while the sink has room', async () => {
      const { sink, written } = slowWritable(8);
      await run(of(1, 2, 3).pipe(writeTo(sink)));
      expect(written).toEqual([1, 2, 3]);
    });

    it('a Subject that pushes into a full sink errors, naming the fix', async () => {
      const { sink } = slowWritable(1);
      const source = new Subject<number>();
      const copy = run(source.pipe(writeTo(sink)));
      source.next(1); // fills it
      source.next(2);
      const error = await copy.catch((e: unknown) => e);
      expect(isBufferOverflowError(error)).toBe(true);
      expect((error as Error).message).toMatch(/^writeTo: received a value while the sink had no room.*pull\(\)/);
    });
  });

  describe('the usual cases', () => {
    it('empty: ends the sink and completes once it has finished; never: writes nothing and stays open', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const sink = new VirtualWritable<string>(asyncScheduler, 2, 3);
        expectObservable(cold('|').pipe(writeTo(sink))).toBe('|');
        expectObservable(sink.writes).toBe('|');
        const never = cold('-');
        expectObservable(never.pipe(writeTo(new VirtualWritable<string>(asyncScheduler, 2, 3))), '^--!').toBe('---');
        expectSubscriptions(never.subscriptions).toBe('^--!');
      });
    });

    it('one value: written, then the sink ends and the stream completes once it has finished', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const sink = new VirtualWritable<string>(asyncScheduler, 2, 3);
        // a at 1; the source completes at 2; a is written at 4, then end() calls back: complete at 4
        expectObservable(cold('-a|').pipe(writeTo(sink))).toBe('----|');
        expectObservable(sink.writes).toBe('-a--|');
      });
    });

    it('a synchronous source that ignores demand is stopped when the sink is full (no endless loop)', () => {
      let emitted = 0;
      testScheduler().run(({ expectObservable }) => {
        const endless = new Observable<number>((subscriber) => {
          for (let i = 0; !subscriber.closed; i++) {
            emitted++;
            subscriber.next(i);
          }
        });
        const sink = new VirtualWritable<number>(asyncScheduler, 2, 3);
        const output = endless.pipe(
          writeTo(sink),
          catchError((e: unknown) => of(isBufferOverflowError(e) ? 'overflow' : 'other')),
        );
        expectObservable(output).toBe('(x|)', { x: 'overflow' });
      });
      // 0 and 1 fill the sink (highWaterMark 2), 2 arrives with no credit and errors the stream, which stops the loop
      expect(emitted).toBe(3);
    });

    it('unsubscription through mergeMap reaches the producer', async () => {
      const { sink } = slowWritable(2);
      const source = counted(1_000_000);
      const subscription = of(sink)
        .pipe(mergeMap((s) => pull(source.gen).pipe(writeTo(s))))
        .subscribe();
      await tick();
      subscription.unsubscribe();
      expect(source.closed()).toBe(true);
    });
  });

  describe('into a WHATWG WritableStream', () => {
    function slowStream(highWaterMark: number, options: { fail?: number } = {}) {
      const written: number[] = [];
      let closed = false;
      const stream = new WritableStream<number>(
        {
          async write(value) {
            await tick();
            if (options.fail === value) throw new Error(`cannot write ${value}`);
            written.push(value);
          },
          close() {
            closed = true;
          },
        },
        new CountQueuingStrategy({ highWaterMark }),
      );
      return { stream, written, closed: () => closed };
    }

    it("holds no more than the stream's highWaterMark; order; close() before completion", async () => {
      const { stream, written, closed } = slowStream(3);
      let given = 0;
      let maxHeld = 0;
      await run(
        pull(counted(200).gen).pipe(
          map((x) => {
            given++;
            maxHeld = Math.max(maxHeld, given - written.length);
            return x;
          }),
          writeTo(stream),
        ),
      );
      expect(written).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(closed()).toBe(true);
      expect(maxHeld).toBe(3);
    });

    it('end: false leaves it open and unlocked once every write is done', async () => {
      const { stream, written, closed } = slowStream(2);
      await run(pull([1, 2, 3]).pipe(writeTo(stream, { end: false })));
      expect(written).toEqual([1, 2, 3]);
      expect(closed()).toBe(false);
      expect(stream.locked).toBe(false);
    });

    it('a failing write reaches the subscriber as that error', async () => {
      const { stream } = slowStream(2, { fail: 2 });
      const source = counted(50);
      await expect(run(pull(source.gen).pipe(writeTo(stream)))).rejects.toThrow('cannot write 2');
      expect(source.closed()).toBe(true);
    });

    it('unsubscribing releases the lock', async () => {
      const { stream } = slowStream(1);
      const subscription = pull(counted(100).gen).pipe(writeTo(stream)).subscribe();
      expect(stream.locked).toBe(true);
      subscription.unsubscribe();
      expect(stream.locked).toBe(false);
    });

    it('a locked stream errors the subscription with the TypeError of getWriter()', async () => {
      const { stream } = slowStream(1);
      stream.getWriter();
      await expect(run(pull([1]).pipe(writeTo(stream)))).rejects.toThrow(TypeError);
    });
  });

  it('rejects bad arguments at the call', () => {
    expect(() => writeTo({} as never)).toThrow(
      new TypeError('writeTo: sink must be a WritableStream or a Writable (write, once, end), got an object'),
    );
    expect(() => writeTo(new WritableStream(), { end: 'yes' as never })).toThrow(
      new TypeError('writeTo: end must be a boolean, got "yes"'),
    );
    expect(() => writeTo(new WritableStream(), { ending: true } as never)).toThrow(/unknown option "ending"/);
  });
});
