import { animationFrames, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, ObservableInput, SchedulerLike } from 'rxjs';
import { fail, observerOrFunction, optional, scheduler, settings, withDefault } from '../internal/options.js';
import type { Check, Schema } from '../internal/options.js';
import { isObservableInput } from '../internal/input.js';
import { framePaced } from '../queue/frames.js';
import type { DropHandler } from '../types.js';

/** Options of {@link latestPerFrame}. */
export interface LatestPerFrameOptions<T> {
  /**
   * The frame clock: each emission is a frame. Default `animationFrames()` (one per `requestAnimationFrame`, read only
   * when subscribed, so importing this in Node or a worker is safe). Subscribed only while a value waits, so an idle
   * page requests no frames. Outside a browser, or in tests, pass any stream that keeps emitting, e.g.
   * `interval(16)`; a frame clock that completes while a value waits errors the stream.
   */
  frames?: ObservableInput<unknown> | undefined;
  /** Told of every value a newer one replaced (reason `'evicted'`), and of the held one on error or unsubscribe. */
  onDrop?: DropHandler<T> | undefined;
  /** The clock for drop times. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/**
 * Frame pacing: holds the newest value and emits it at the next animation frame, at most one value per frame; the
 * values it replaced are reported to `onDrop` (reason `'evicted'`) and the last value is always emitted.
 *
 * The pattern for rendering high-rate UI state (pointer position, scroll offset, element size): draw once per frame,
 * always the freshest state, never a stale one. It is `auditTime(0, animationFrameScheduler)` /
 * `sample(animationFrames())` with nothing lost silently: every replaced value is reported, and on completion the held
 * value still goes out at the next frame, then the stream completes. A capacity-1 `dropOnFull` with
 * `overflow: 'drop-oldest'` whose credit is one per frame, taken only while a value waits.
 *
 * Values are emitted inside the frame callback (where DOM writes belong), never at arrival. Followed by a
 * {@link drain}, it links to it like a queue operator: a value goes out at a frame only while the drain has credit,
 * so a renderer slower than a frame gets the newest value at the first frame after it is free. Above it, a
 * {@link pull} source is read one value per emission (the slot it frees), so it is paced without a loss.
 *
 * ```
 * moves:   -a-b-c---d-e|
 * frames:  ------x------x       (animationFrames(): one x per requestAnimationFrame)
 * latestPerFrame({ onDrop })
 * output:  ------c------(e|)    (the last value goes out at the next frame, then completion)
 * drops:   ---a-b-----d         (replaced by a newer value: reason 'evicted')
 * ```
 *
 * ## Example
 * ```ts
 * import { fromEvent, map } from 'rxjs';
 * import { latestPerFrame } from 'rxjs-backpressure';
 *
 * // At most one draw per frame, always the newest position; the final position is always drawn.
 * let skipped = 0;
 * fromEvent<PointerEvent>(canvas, 'pointermove')
 *   .pipe(
 *     map((event) => ({ x: event.offsetX, y: event.offsetY })),
 *     latestPerFrame({ onDrop: () => skipped++ }),
 *   )
 *   .subscribe((position) => drawCursor(position, skipped));
 * ```
 *
 * @param options `frames` (default `animationFrames()`), `onDrop`, `scheduler`
 * @see {@link throttleTokenBucket} with `mode: 'latest'`: the newest value at a rate rather than per frame
 * @see {@link dropOnFull} the queue it is a one-slot, frame-credited case of
 */
export function latestPerFrame<T>(options: LatestPerFrameOptions<T> = {}): MonoTypeOperatorFunction<T> {
  const { frames, onDrop, scheduler } = settings('latestPerFrame', LATEST_PER_FRAME, options);
  return framePaced<T>({
    operator: 'latestPerFrame',
    frames: frames ?? animationFrames(),
    onDrop: onDrop as DropHandler<T> | undefined,
    scheduler,
  });
}

const framesCheck: Check<ObservableInput<unknown> | undefined> = (operator, option, value) => {
  if (value === undefined) return undefined;
  // A string is an iterable of characters, never a clock.
  if (typeof value === 'string' || !isObservableInput(value))
    fail(operator, option, 'an ObservableInput', value, 'type');
  return value as ObservableInput<unknown>;
};

const LATEST_PER_FRAME = {
  frames: framesCheck,
  onDrop: optional(observerOrFunction<DropHandler<unknown>>),
  scheduler: withDefault(scheduler, asyncScheduler),
} satisfies Schema<LatestPerFrameOptions<unknown>>;
