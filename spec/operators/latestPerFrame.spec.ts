import { NEVER, Observable, Subject, mergeMap, of, takeUntil } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BufferOverflowError, drain, latestPerFrame, pull } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';
import { dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

// Frames are driven as a browser drives them: TestScheduler.run's animate() runs the requestAnimationFrame callbacks
// at its marble's frames, and latestPerFrame's default clock, rxjs' animationFrames(), requests them. A callback
// requested inside a frame runs at the next one, as in a browser.

describe('latestPerFrame', () => {
  it('emits the newest value at each frame, reports the ones it replaced, and always emits the last', () => {
    testScheduler().run(({ animate, cold, expectObservable, expectSubscriptions }) => {
      // a b c arrive before the frame at 6: c goes out then, a and b were replaced. d then e before the frame at 13;
      // the source completes at 12 with e held, so e goes out at 13 and the completion with it.
      animate('           ------x------x');
      const source = cold('-a-b-c---d-e|');
      const subs = '       ^-----------!';
      const drops = dropLane<string>();
      expectObservable(source.pipe(latestPerFrame({ onDrop: drops.onDrop }))).toBe('------c------(e|)');
      expectObservable(drops.values$).toBe('---a-b-----d');
      expectSubscriptions(source.subscriptions).toBe(subs);
      expectObservable(drops.reasons$).toBe('---a-b-----d', { a: 'a:evicted', b: 'b:evicted', d: 'd:evicted' });
    });
  });

  it('handles never, empty, one value and an upstream error (the held value is reported error)', () => {
    testScheduler().run(({ animate, cold, expectObservable }) => {
      animate('                                         ---x---x---x');
      expectObservable(cold('-').pipe(latestPerFrame())).toBe('-');
      expectObservable(cold('|').pipe(latestPerFrame())).toBe('|');
      // completion waits for the held value's frame
      expectObservable(cold('-a|').pipe(latestPerFrame())).toBe('---(a|)');
      // two values four frames apart: one per frame; b's frame carries the completion that came before it
      expectObservable(cold('-a---b|').pipe(latestPerFrame())).toBe('---a---(b|)');
      const drops = dropLane<string>();
      expectObservable(cold('----a-#').pipe(latestPerFrame({ onDrop: drops.onDrop }))).toBe('------#');
      expectObservable(drops.reasons$).toBe('------e', { e: 'a:error' });
    });
  });

  it('emits inside the frame, never at arrival, and at most one value per frame', () => {
    testScheduler().run(({ animate, hot, expectObservable }) => {
      // a b c arrive in frame 1, d e in 7, f in 12: the frames at 2, 8 and 14 emit c, e and f; the frames at 5 and
      // 11 have nothing new and emit nothing
      animate('          --x--x--x--x--x');
      const moves = hot('-(abc)-(de)-f');
      expectObservable(moves.pipe(latestPerFrame())).toBe('--c-----e-----f');
    });
  });

  it('is subscribed to its frame clock only while a value waits (an idle page requests no frames)', () => {
    testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const frames = hot(' x-x-x-x-x-x-x-x-x');
      const source = cold('-a-------b---|');
      expectObservable(source.pipe(latestPerFrame({ frames }))).toBe('--a-------b--|');
      expectSubscriptions(frames.subscriptions).toBe(['-^!', '---------^!']);
    });
  });

  it('linked to a drain below: a value goes out at a frame only while the drain has credit, the newest one', () => {
    testScheduler().run(({ animate, cold, expectObservable }) => {
      // Frames every 3 (2, 5, 8, ...); a render takes 4 frames, one at a time. a goes out at 2 (rendered by 6); at 5
      // the drain is busy, so c (which replaced b) waits for the first frame after 6: 8 (rendered by 12). d waits
      // the same way for 14, and the completion (at 10) waits for it: rendered by 18, then complete.
      animate('           --x--x--x--x--x--x--x');
      const source = cold('a--bc----d|');
      const drops = dropLane<string>();
      const render = (value: string) => cold('----(r|)', { r: value });
      const output = source.pipe(latestPerFrame({ onDrop: drops.onDrop }), drain(render));
      expectObservable(output).toBe('------a-----c-----(d|)');
      expectObservable(drops.values$).toBe('----b');
    });
  });

  it('without it, the same burst into the drain errors (nothing upstream obeys demand)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const render = (value: string) => cold('----(r|)', { r: value });
      // an unlinked drain takes its one requested value (a) and errors on the next (b, at 3)
      const output = cold('a--bc----d|').pipe(drain(render));
      expectObservable(output).toBe('---#', undefined, expect.any(BufferOverflowError));
    });
  });

  it('reads a pull() source above it one value per emission: paced to the frames, nothing dropped', () => {
    testScheduler().run(({ animate, expectObservable }) => {
      animate('-x-x-x-x-x');
      const read: string[] = [];
      function* letters() {
        for (const letter of ['a', 'b', 'c']) {
          read.push(letter);
          yield letter;
        }
      }
      const drops = dropLane<string>();
      // a is read at subscription (the one slot); each emission frees the slot, and the next letter is read then.
      // After c the slot is free again: the generator is asked for more, is done, and the stream completes.
      expectObservable(pull(letters()).pipe(latestPerFrame({ onDrop: drops.onDrop }))).toBe('-a-b-(c|)');
      expectObservable(drops.values$).toBe('-');
    });
  });

  it('errors when its frame clock completes while a value waits, and when it errors', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const drops = dropLane<string>();
      const ended = cold('-a-------').pipe(latestPerFrame({ frames: cold('---|'), onDrop: drops.onDrop }));
      expectObservable(ended).toBe('----#', undefined, new Error(FRAMES_ENDED));
      expectObservable(drops.reasons$).toBe('----e', { e: 'a:error' });
      const failing = cold('-a-------').pipe(latestPerFrame({ frames: cold('--#', undefined, 'no frames') }));
      expectObservable(failing).toBe('---#', undefined, 'no frames');
    });
  });

  it('a frame clock that completes after the held value went out is fine (timer-like clocks)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const frames = cold('--x|');
      expectObservable(cold('-a----b--|').pipe(latestPerFrame({ frames }))).toBe('---a----b|');
    });
  });

  it('reports the held value cancelled on unsubscribe and leaves no frame requested', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const drops = dropLane<string>();
      const frames = hot('------x');
      expectObservable(cold('-a---').pipe(latestPerFrame({ frames, onDrop: drops.onDrop })), '^--!').toBe('-');
      expectObservable(drops.reasons$).toBe('---c', { c: 'a:cancelled' });
      expectSubscriptions(frames.subscriptions).toBe('-^-!');
    });
  });

  it('does not break unsubscription chains through mergeMap', () => {
    testScheduler().run(({ animate, hot, expectObservable, expectSubscriptions }) => {
      animate('          ---x---x---x---x---x');
      const source = hot('--a--b--c---d---e--|');
      const subs = '      ^---------!';
      const unsub = '     ^---------!';
      const result = source.pipe(
        mergeMap((x) => of(x)),
        latestPerFrame(),
        mergeMap((x) => of(x)),
      );
      expectObservable(result, unsub).toBe('---a---b--');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('stops a synchronous source when unsubscribed (from inside onDrop)', () => {
    const produced: number[] = [];
    const stop = new Subject<void>();
    const cancelled: Dropped<number>[] = [];
    const source = new Observable<number>((subscriber) => {
      for (let i = 0; !subscriber.closed && i < 10; i++) {
        produced.push(i);
        subscriber.next(i);
      }
    });
    source
      .pipe(
        latestPerFrame({
          frames: NEVER,
          onDrop: (drop) => {
            if (drop.reason === 'cancelled') cancelled.push(drop);
            if (drop.value === 2) stop.next();
          },
        }),
        takeUntil(stop),
      )
      .subscribe();
    // 3 evicts 2, whose report unsubscribes: the loop sees `closed` before producing 4; 3 is reported cancelled
    expect(produced).toEqual([0, 1, 2, 3]);
    expect(cancelled.map((d) => d.value)).toEqual([3]);
  });

  it('an onDrop that throws errors the stream with its error; the value held is reported error', () => {
    const reports: string[] = [];
    testScheduler().run(({ animate, cold, expectObservable }) => {
      animate('------x');
      const onDrop = (drop: Dropped<string>) => {
        reports.push(`${drop.value}:${drop.reason}`);
        if (drop.reason === 'evicted') throw new Error('onDrop failed');
      };
      const output = cold('-a-b--').pipe(latestPerFrame({ onDrop }));
      expectObservable(output).toBe('---#', undefined, new Error('onDrop failed'));
    });
    // b evicted a, whose report threw: b, which took the slot, is reported with the error
    expect(reports).toEqual(['a:evicted', 'b:error']);
  });

  it.each<[string, unknown, ErrorConstructor, string]>([
    ['options not an object', 5, TypeError, 'latestPerFrame: options must be an object, got 5'],
    ['unknown option', { capacity: 1 }, TypeError, 'latestPerFrame: unknown option "capacity"'],
    ['frames a number', { frames: 16 }, TypeError, 'latestPerFrame: frames must be an ObservableInput, got 16'],
    ['frames a string', { frames: 'x' }, TypeError, 'latestPerFrame: frames must be an ObservableInput, got "x"'],
    ['onDrop a number', { onDrop: 1 }, TypeError, 'latestPerFrame: onDrop must be a function or an Observer, got 1'],
    ['scheduler without now()', { scheduler: {} }, TypeError, 'latestPerFrame: scheduler must be a SchedulerLike'],
  ])('rejects bad options at the call: %s', (_, options, type, message) => {
    expect(() => latestPerFrame(options as never)).toThrow(type);
    expect(() => latestPerFrame(options as never)).toThrow(message);
  });
});

const FRAMES_ENDED =
  'latestPerFrame: frames completed while a value waited for a frame; frames must keep emitting while subscribed, ' +
  'as animationFrames() does';
