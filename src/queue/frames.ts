import { Observable, from } from 'rxjs';
import type { MonoTypeOperatorFunction, ObservableInput, SchedulerLike, Subscriber } from 'rxjs';
import { arrive, claim, createLink, emit, grant, offer } from '../demand/link.js';
import type { Link } from '../demand/link.js';
import { Ledger } from '../internal/ledger.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import type { DropHandler } from '../types.js';

/** What {@link latestPerFrame} validated. */
export interface FrameSpec<T> {
  readonly operator: string;
  /** The frame clock: subscribed while a value is held, each emission a frame. */
  readonly frames: ObservableInput<unknown>;
  readonly onDrop: DropHandler<T> | undefined;
  readonly scheduler: SchedulerLike;
}

/**
 * The latest-value-per-frame holder: a one-slot queue whose newest arrival evicts the value held before it, and which
 * emits only at a frame of its frame clock (and, linked to a drain below, only against the drain's credit).
 */
export function framePaced<T>(spec: FrameSpec<T>): MonoTypeOperatorFunction<T> {
  const frames = from(spec.frames);
  return (source) =>
    new Observable<T>((subscriber) => {
      const run = new FrameRun<T>(spec, frames, subscriber);
      run.start(source);
      return () => run.teardown();
    });
}

class FrameRun<T> extends Ledger<T> {
  /** Credit from below: a drain's link (claimed), else unbounded. */
  private readonly credit: Link;
  private readonly linked: boolean;
  /** Room offered to a demand-aware producer above: one slot. */
  private readonly up: Link;
  private holding = false;
  private held: T | undefined = undefined;
  /** The subscription to the frame clock, while a value is held. */
  private ticks: SourceSubscriber<unknown> | undefined = undefined;

  constructor(
    spec: FrameSpec<T>,
    private readonly frames: Observable<unknown>,
    destination: Subscriber<T>,
  ) {
    super(spec.operator, destination, spec.onDrop, spec.scheduler, undefined);
    const link = claim(this.wake);
    this.linked = link !== undefined;
    this.credit = link ?? createLink(spec.operator, Infinity);
    this.down = link;
    this.up = createLink(spec.operator, 1);
  }

  start(source: Observable<T>): void {
    const upstream = new SourceSubscriber<T>(this.destination, {
      next: (value) => this.arrive(value),
      error: (error) => this.fail(error),
      complete: () => this.upstreamComplete(),
    });
    offer(this.up, () => source.subscribe(upstream));
  }

  private arrive(value: T): void {
    if (this.up.claimed) arrive(this.up);
    if (this.over) {
      this.late(value);
      return;
    }
    const evicted = this.held;
    const had = this.holding;
    // The arrival takes the slot before the evicted value is reported: a value onDrop pushes back in evicts it in turn.
    this.held = value;
    this.holding = true;
    if (had) this.drop(evicted as T, 'evicted', true);
    if (this.over) return;
    this.watchFrames();
    this.giveBack();
  }

  /** A frame: the held value goes out, if the consumer below has credit for it; else it waits for a later frame. */
  private frame(): void {
    if (this.over || !this.holding || this.credit.credit <= 0) return;
    const value = this.held as T;
    this.held = undefined;
    this.holding = false;
    this.freed++;
    if (this.linked) emit(this.credit, this.destination, value);
    else this.destination.next(value);
    if (this.over) return;
    this.giveBack();
    if (this.holding) return; // a value arrived meanwhile: it waits for the next frame
    this.unwatchFrames();
    if (this.state === 'closing') this.finish();
  }

  private watchFrames(): void {
    if (this.ticks !== undefined) return;
    const ticks = new SourceSubscriber<unknown>(this.destination, {
      next: () => this.frame(),
      error: (error) => this.fail(error),
      complete: () => this.framesEnded(),
    });
    this.ticks = ticks;
    this.frames.subscribe(ticks);
  }

  private unwatchFrames(): void {
    const ticks = this.ticks;
    this.ticks = undefined;
    ticks?.unsubscribe();
  }

  /** The frame clock completed while a value waited for a frame: it would wait forever, so the stream errors. */
  private framesEnded(): void {
    this.ticks = undefined;
    if (this.over || !this.holding) return;
    this.fail(
      new Error(
        `${this.operator}: frames completed while a value waited for a frame; frames must keep emitting while ` +
          'subscribed, as animationFrames() does',
      ),
    );
  }

  /** Gives the slot freed by an emission or an eviction back to the producer above, as credit. */
  private giveBack(): void {
    const n = this.freed;
    if (n === 0 || this.state !== 'open') return;
    this.freed = 0;
    if (this.up.claimed) grant(this.up, n);
  }

  private upstreamComplete(): void {
    this.state = 'closing';
    if (!this.holding) this.finish();
  }

  protected release(visit: (value: T) => void): void {
    if (!this.holding) return;
    const value = this.held as T;
    this.held = undefined;
    this.holding = false;
    visit(value);
  }

  protected ended(): void {
    this.unwatchFrames();
  }
}
