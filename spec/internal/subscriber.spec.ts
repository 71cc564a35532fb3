import { Observable, Subject, of, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SourceSubscriber } from '../../src/internal/subscriber.js';

/** The smallest operator on the helper: forwards everything. */
function passThrough<T>(source: Observable<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    source.subscribe(new SourceSubscriber<T>(subscriber, { next: (v) => subscriber.next(v) }));
  });
}

describe('SourceSubscriber', () => {
  it('stops a synchronous source as soon as the destination unsubscribes', () => {
    const produced: number[] = [];
    const source = new Observable<number>((subscriber) => {
      for (let i = 0; i < 10 && !subscriber.closed; i++) {
        produced.push(i);
        subscriber.next(i);
      }
    });
    const seen: number[] = [];
    passThrough(source)
      .pipe(take(3))
      .subscribe((v) => seen.push(v));
    expect(seen).toEqual([0, 1, 2]);
    expect(produced).toEqual([0, 1, 2]);
  });

  it('ignores notifications after complete and after error (Reactive Streams 1.7)', () => {
    const source = new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.complete();
      subscriber.next(2);
      subscriber.error(new Error('late'));
    });
    const events: string[] = [];
    passThrough(source).subscribe({
      next: (v) => events.push(`n${v}`),
      error: () => events.push('e'),
      complete: () => events.push('c'),
    });
    expect(events).toEqual(['n1', 'c']);
  });

  it('turns a throwing next handler into an error of the destination and releases the source', () => {
    const source = new Subject<number>();
    const failing = new Observable<number>((subscriber) => {
      source.subscribe(
        new SourceSubscriber<number>(subscriber, {
          next: () => {
            throw new Error('boom');
          },
        }),
      );
    });
    const errors: unknown[] = [];
    failing.subscribe({ error: (e) => errors.push(e) });
    source.next(1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
    expect(source.observed).toBe(false);
  });

  it('forwards error and complete to the destination by default', () => {
    const errors: unknown[] = [];
    passThrough(new Observable<number>((s) => s.error('x'))).subscribe({ error: (e) => errors.push(e) });
    expect(errors).toEqual(['x']);
    let completed = false;
    passThrough(of(1)).subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
  });
});
