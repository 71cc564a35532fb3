import { TestScheduler } from 'rxjs/testing';
import { toMarbles } from 'rxjs-backpressure/testing';
import type { TestMessage } from 'rxjs-backpressure/testing';
import { expect } from 'vitest';

const isMessages = (value: unknown): value is TestMessage[] =>
  Array.isArray(value) && value.every((m) => typeof m === 'object' && m !== null && 'notification' in m);

/**
 * A fresh TestScheduler that compares with vitest's deep equality; a failing comparison of notifications first prints
 * both as marble diagrams (toMarbles from rxjs-backpressure/testing), then the frame-by-frame diff.
 */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    const message =
      isMessages(actual) && isMessages(expected)
        ? `\n  actual:   ${toMarbles(actual)}\n  expected: ${toMarbles(expected)}\n`
        : undefined;
    expect(actual, message).toEqual(expected);
  });
}
