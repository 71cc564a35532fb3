import { Subscription } from 'rxjs';
import type { Observer, Subscriber } from 'rxjs';

/** What an operator does with each notification from its source. Omitted handlers forward to the destination. */
export interface SourceHandlers<T> {
  next(value: T): void;
  error?(error: unknown): void;
  complete?(): void;
}

/**
 * The subscriber an operator hands to its source.
 *
 * It is a `Subscription` that is also an `Observer`, and it is added to the destination at construction. rxjs 7
 * recognises such an object as a subscriber and hands it to the source as is; rxjs 8 wraps it in a `Subscriber` that it
 * adds to it. Either way the source sees `closed` become true the moment the destination unsubscribes, so a
 * synchronous source stops emitting (rxjs' `Subscriber` chaining, built from public API only).
 *
 * After `error` or `complete` it ignores further notifications and releases the source (Reactive Streams 1.7).
 * A handler that throws errors the destination: nothing is emitted after that.
 */
export class SourceSubscriber<T> extends Subscription implements Observer<T> {
  private stopped = false;

  constructor(
    private readonly destination: Subscriber<any>,
    private readonly handlers: SourceHandlers<T>,
  ) {
    super();
    destination.add(this);
  }

  next(value: T): void {
    if (this.stopped) return;
    try {
      this.handlers.next(value);
    } catch (error) {
      this.stopWith(error);
    }
  }

  error(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (this.handlers.error) this.handlers.error(error);
      else this.destination.error(error);
    } finally {
      this.unsubscribe();
    }
  }

  complete(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (this.handlers.complete) this.handlers.complete();
      else this.destination.complete();
    } catch (error) {
      this.destination.error(error);
    } finally {
      this.unsubscribe();
    }
  }

  override unsubscribe(): void {
    this.stopped = true;
    super.unsubscribe();
  }

  private stopWith(error: unknown): void {
    this.stopped = true;
    this.unsubscribe();
    this.destination.error(error);
  }
}
