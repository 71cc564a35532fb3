import { Subject, map } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { DropReason, Dropped } from '../../src/types.js';

/** A fresh TestScheduler that compares with vitest's deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Credits as marble values: the digit characters stand for themselves. */
export const CREDITS: Record<string, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 9: 9, i: Infinity };

/** An onDrop Subject and two drawable views of it: the dropped values, and `value:reason`. */
export function dropLane<T>(): {
  onDrop: Subject<Dropped<T>>;
  values: Observable<T>;
  reasons: Observable<string>;
  all: Dropped<T>[];
} {
  const onDrop = new Subject<Dropped<T>>();
  const all: Dropped<T>[] = [];
  onDrop.subscribe((d) => all.push(d));
  return {
    onDrop,
    values: onDrop.pipe(map((d) => d.value)),
    reasons: onDrop.pipe(map((d) => `${String(d.value)}:${d.reason}`)),
    all,
  };
}

export function reasonsOf<T>(drops: Dropped<T>[]): DropReason[] {
  return drops.map((d) => d.reason);
}
