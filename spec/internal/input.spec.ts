import { Observable, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { isObservableInput } from '../../src/internal/input.js';

// What the `demand` and `frames` options accept: exactly what rxjs' from() accepts, judged without subscribing,
// iterating or awaiting anything.
describe('isObservableInput', () => {
  const interop = { [Symbol.observable ?? '@@observable']: () => of(1) };
  const accepted: [string, unknown][] = [
    ['an Observable', of(1)],
    ['an interop observable', interop],
    ['a Promise', Promise.resolve(1)],
    ['an array', [1, 2]],
    ['an array-like', { length: 0 }],
    ['a Set (iterable)', new Set([1])],
    ['an async iterable', { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) }],
    ['a ReadableStream', new ReadableStream()],
    ['a string (an iterable of characters: the options reject it themselves)', 'abc'],
  ];
  const rejected: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 16],
    ['a plain object', { request: 1 }],
    ['a function', () => 1],
    ['an object without a prototype', Object.create(null)],
  ];

  it.each(accepted)('accepts %s', (_, value) => {
    expect(isObservableInput(value)).toBe(true);
  });

  it.each(rejected)('rejects %s', (_, value) => {
    expect(isObservableInput(value)).toBe(false);
  });

  it('looks at the value only: nothing is subscribed, iterated or awaited', () => {
    let touched = 0;
    const observable = new Observable(() => void touched++);
    const iterable = { [Symbol.iterator]: () => (touched++, [][Symbol.iterator]()) };
    const thenable = { then: () => void touched++ };
    for (const value of [observable, iterable, thenable]) expect(isObservableInput(value)).toBe(true);
    expect(touched).toBe(0);
  });
});
