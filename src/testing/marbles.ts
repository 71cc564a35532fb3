import { Subject, map } from 'rxjs';
import type { Observable, ObservableNotification } from 'rxjs';
import type { CircuitState } from '../breaker/CircuitBreaker.js';
import type { Dropped } from '../types.js';

/**
 * Marble values for a lane of credits: each digit stands for itself, `i` for `Infinity` (unbounded demand).
 *
 * `0` is not a credit (a request of 0 is a `RangeError`, Reactive Streams 3.9), so it has no entry.
 *
 * ```
 * demand:  --1---3--i      hot('--1---3--i', CREDITS): request(1), request(3), then unbounded
 * ```
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { dropOnFull } from 'rxjs-backpressure';
 * import { CREDITS } from 'rxjs-backpressure/testing';
 * import { expect } from 'vitest';
 *
 * new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, hot, expectObservable }) => {
 *   const demand = hot('  ----1---2---', CREDITS);
 *   const source = cold(' -a-b-c-|');
 *   expectObservable(source.pipe(dropOnFull({ capacity: 3, demand }))).toBe('----a---(bc|)');
 * });
 * ```
 *
 * @see dropLane
 */
export const CREDITS: Readonly<Record<string, number>> = Object.freeze({
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  6: 6,
  7: 7,
  8: 8,
  9: 9,
  i: Infinity,
});

/**
 * Marble values for a `CircuitBreaker`'s `state$`: `c` closed, `o` open, `h` half-open, `i` isolated.
 *
 * ```
 * state$:  c----o----h--c      expectObservable(breaker.state$).toBe('c----o----h--c', BREAKER_STATES)
 * ```
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { CircuitBreaker } from 'rxjs-backpressure';
 * import { BREAKER_STATES } from 'rxjs-backpressure/testing';
 * import { expect } from 'vitest';
 *
 * const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
 * scheduler.run(({ cold, expectObservable }) => {
 *   const breaker = new CircuitBreaker({ scheduler });
 *   cold('--x').subscribe(() => breaker.isolate());
 *   expectObservable(breaker.state$, '^---!').toBe('c-i-', BREAKER_STATES);
 * });
 * ```
 *
 * @see CREDITS
 */
export const BREAKER_STATES: Readonly<{ c: 'closed'; o: 'open'; h: 'half-open'; i: 'isolated' }> = Object.freeze({
  c: 'closed',
  o: 'open',
  h: 'half-open',
  i: 'isolated',
} satisfies Record<string, CircuitState>);

/** What {@link dropLane} returns: a Subject to pass as `onDrop`, with drawable views of what it was told. */
export interface DropLane<T> extends Subject<Dropped<T>> {
  /** The lane itself, for `{ onDrop: drops.onDrop }`; `{ onDrop: drops }` is the same. */
  readonly onDrop: Subject<Dropped<T>>;
  /** The dropped values, as a lane to draw: `expectObservable(drops.values$).toBe('---c')`. */
  readonly values$: Observable<T>;
  /** Each drop as `'value:reason'` (`String(value)`), e.g. `'c:overflow'`, to draw with a values map. */
  readonly reasons$: Observable<string>;
  /** Every drop so far, in order, with its reason and time. */
  readonly all: readonly Dropped<T>[];
}

/**
 * An `onDrop` Subject whose drops draw as marble lanes: `values$` (the values) and `reasons$` (`'value:reason'`),
 * with `all` keeping every drop for plain assertions.
 *
 * Subscribe the lanes you draw before the drops happen (inside `TestScheduler.run`, `expectObservable` does); `all`
 * records from the moment the lane is made.
 *
 * ```
 * source:  -a-b-c-d-|
 * demand:  ----------1-1-1
 * dropOnFull({ capacity: 2, overflow: 'drop-oldest', demand, onDrop: drops })
 * output:  ----------c-(d|)
 * drops.values$:  -----a-b          drops.reasons$: -----x-y   x = 'a:evicted', y = 'b:evicted'
 * ```
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { dropOnFull } from 'rxjs-backpressure';
 * import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
 * import { expect } from 'vitest';
 *
 * new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, hot, expectObservable }) => {
 *   const drops = dropLane<string>();
 *   const demand = hot('  ----------1-1-1', CREDITS);
 *   const source = cold(' -a-b-c-d-|');
 *   const output = source.pipe(dropOnFull({ capacity: 2, overflow: 'drop-oldest', demand, onDrop: drops }));
 *   expectObservable(output).toBe('             ----------c-(d|)');
 *   expectObservable(drops.values$).toBe('      -----a-b');
 *   expectObservable(drops.reasons$).toBe('     -----x-y', { x: 'a:evicted', y: 'b:evicted' });
 * });
 * ```
 *
 * @see CREDITS
 * @see toMarbles
 */
export function dropLane<T>(): DropLane<T> {
  const subject = new Subject<Dropped<T>>();
  const all: Dropped<T>[] = [];
  subject.subscribe((drop) => all.push(drop));
  return Object.assign(subject, {
    onDrop: subject,
    values$: subject.pipe(map((drop) => drop.value)),
    reasons$: subject.pipe(map((drop) => `${String(drop.value)}:${drop.reason}`)),
    all,
  });
}

/**
 * One notification recorded by a `TestScheduler`, at its frame: the shape of the `actual` and `expected` arrays its
 * assertion function receives.
 */
export interface TestMessage {
  frame: number;
  notification: ObservableNotification<unknown>;
}

/** Options of {@link toMarbles}. */
export interface ToMarblesOptions {
  /** The values map given to `toBe`: a value found in it (deep equality) is drawn as its key. */
  values?: Record<string, unknown> | undefined;
  /** The error given to `toBe` (default `'error'`, as in rxjs): an error equal to it gets no legend entry. */
  error?: unknown;
  /** Virtual ms per frame: 1 (default) inside `TestScheduler.run`, 10 outside it. */
  frameTimeFactor?: number | undefined;
  /** Append a legend for values drawn with a letter of their own and for errors (default true). */
  legend?: boolean | undefined;
}

/** Gaps longer than this are drawn with run mode's time progression (`' 250ms '`) instead of dashes. */
const LONG_GAP = 20;
const SPECIAL = new Set(['-', ' ', '(', ')', '|', '#', '^', '!']);
const FRESH = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';

function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Error && b instanceof Error && (a.name !== b.name || a.message !== b.message)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => equal((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function describeValue(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Prints notifications recorded by a `TestScheduler` (the `actual` and `expected` arrays its assertion function is
 * given) as a marble string, so a failing assertion reads as two diagrams instead of two arrays of frame objects.
 *
 * A value is drawn as its key in `options.values`, else a one-character string as itself, a number 0..9 as its digit
 * and `Infinity` as `i` (as {@link CREDITS} draws credits), else with a letter of its own, explained in a legend after
 * the diagram. Values of one frame are grouped `(ab)`; gaps over 20 frames use run mode's time progression
 * (`a 250ms b`). Notifications closer together than a group is wide cannot be drawn exactly in marble syntax: they
 * are drawn right after the group, and the legend says at which frame they were.
 *
 * ```
 * actual:    [{ frame: 1, N a }, { frame: 3, N b }, { frame: 3, N c }, { frame: 3, C }]
 * toMarbles(actual)
 * output:    '-a-(bc|)'
 * ```
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { toMarbles } from 'rxjs-backpressure/testing';
 * import { expect } from 'vitest';
 *
 * // Failing marble assertions print the diagrams, then the frame-by-frame diff.
 * const scheduler = new TestScheduler((actual, expected) => {
 *   expect(actual, `\n  actual:   ${toMarbles(actual)}\n  expected: ${toMarbles(expected)}`).toEqual(expected);
 * });
 * ```
 *
 * @param messages the recorded notifications (`TestMessage[]`)
 * @param options the values map and error given to `toBe`, the frame time factor, whether to append a legend
 * @see dropLane
 */
export function toMarbles(messages: readonly TestMessage[], options: ToMarblesOptions = {}): string {
  const factor = options.frameTimeFactor ?? 1;
  const values = options.values ?? {};
  const legend: string[] = [];
  const fresh = new Map<string, unknown>();
  const taken = new Set(Object.keys(values));
  const ownChar = (value: unknown): string | undefined => {
    const key = Object.keys(values).find((k) => equal(values[k], value));
    if (key !== undefined) return key;
    if (typeof value === 'string' && value.length === 1 && !SPECIAL.has(value)) return value;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 9) return String(value);
    if (value === Infinity) return 'i';
    return undefined;
  };
  // the characters values draw as by themselves are not handed out as letters of their own
  for (const { notification } of messages) {
    const own = notification.kind === 'N' ? ownChar(notification.value) : undefined;
    if (own !== undefined) taken.add(own);
  }
  const charOf = (value: unknown): string => {
    const own = ownChar(value);
    if (own !== undefined) return own;
    for (const [letter, known] of fresh) if (equal(known, value)) return letter;
    const letter = [...FRESH].find((c) => !taken.has(c)) ?? '?';
    taken.add(letter);
    fresh.set(letter, value);
    legend.push(`${letter} = ${describeValue(value)}`);
    return letter;
  };
  const errorValue = 'error' in options ? options.error : 'error';
  const symbolOf = (notification: ObservableNotification<unknown>): string => {
    if (notification.kind === 'C') return '|';
    if (notification.kind === 'E') {
      const described = `# = ${describeValue(notification.error)}`;
      if (!equal(notification.error, errorValue) && !legend.includes(described)) legend.push(described);
      return '#';
    }
    return charOf(notification.value);
  };

  const frames = new Map<number, ObservableNotification<unknown>[]>();
  for (const { frame, notification } of [...messages].sort((a, b) => a.frame - b.frame)) {
    const list = frames.get(frame);
    if (list === undefined) frames.set(frame, [notification]);
    else list.push(notification);
  }
  let out = '';
  let cursor = 0;
  for (const [frame, notifications] of frames) {
    const at = frame / factor;
    const gap = at - cursor;
    const symbols = notifications.map(symbolOf).join('');
    if (gap < 0) legend.push(`${symbols} at frame ${frame}`);
    else if (gap > LONG_GAP && factor === 1) out += ` ${gap}ms `;
    else out += '-'.repeat(gap);
    out += notifications.length === 1 ? symbols : `(${symbols})`;
    cursor = Math.max(cursor, at) + (notifications.length === 1 ? 1 : notifications.length + 2);
  }
  return options.legend === false || legend.length === 0 ? out : `${out}   ${legend.join(', ')}`;
}
