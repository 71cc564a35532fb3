import type { SchedulerLike } from 'rxjs';
import { describe } from './format.js';
import { isObservableInput } from './input.js';

/**
 * The one options layer: construction-time checks, and schemas built from them.
 *
 * A check takes `(operator, option, value)`, throws at the call that created the operator (RangeError for a bad
 * number, TypeError for a bad type, a message naming operator and option) and returns the validated setting. A schema
 * is one check per option; {@link settings} rejects unknown keys and returns the settings, keyed by the option names,
 * typed by what each check returns. `Schema<Options>` requires a check for every key of the options interface, so an
 * option added without a check does not compile.
 */
export type Check<V> = (operator: string, option: string, value: unknown) => V;

/** One check for every option of `O` (optional ones included). */
export type Schema<O> = { readonly [K in keyof O]-?: Check<unknown> };

/** The validated settings a schema produces: the option names, the checks' result types. */
export type Settings<S> = { -readonly [K in keyof S]: S[K] extends Check<infer V> ? V : never };

/** Checks the options object and every option of it; returns the settings. */
export function settings<S extends Record<string, Check<unknown>>>(
  operator: string,
  schema: S,
  options: unknown,
): Settings<S> {
  const keys = Object.keys(schema);
  checkOptions(operator, options, keys);
  const given = options as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const key of keys) result[key] = schema[key]!(operator, key, given[key]);
  return result as Settings<S>;
}

/** `check`, or undefined when the option is not given. */
export function optional<V>(check: Check<V>): Check<V | undefined> {
  return (operator, option, value) => (value === undefined ? undefined : check(operator, option, value));
}

/** `check`, or `fallback` when the option is not given. */
export function withDefault<V, D extends V>(check: Check<V>, fallback: D): Check<V> {
  return (operator, option, value) => (value === undefined ? fallback : check(operator, option, value));
}

export function fail(operator: string, option: string, expected: string, got: unknown, kind: 'type' | 'range'): never {
  const message = `${operator}: ${option} must be ${expected}, got ${describe(got)}`;
  throw kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** The options argument is a plain object whose keys are all known. */
export function checkOptions(operator: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(operator, 'options', 'an object', options, 'type');
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${operator}: unknown option ${describe(key)} (known: ${known.join(', ')})`);
    }
  }
}

function number(operator: string, option: string, value: unknown, expected: string): number {
  if (typeof value !== 'number') fail(operator, option, expected, value, 'type');
  return value;
}

/** A positive safe integer. */
export function positiveInteger(operator: string, option: string, value: unknown): number {
  const n = number(operator, option, value, 'a positive integer');
  if (!Number.isSafeInteger(n) || n <= 0) fail(operator, option, 'a positive integer', n, 'range');
  return n;
}

/** A positive integer or Infinity. */
export function positiveCount(operator: string, option: string, value: unknown): number {
  const n = number(operator, option, value, 'a positive integer or Infinity');
  if (n !== Infinity && (!Number.isSafeInteger(n) || n <= 0)) {
    fail(operator, option, 'a positive integer or Infinity', n, 'range');
  }
  return n;
}

/** A finite number > 0. */
export function positiveNumber(operator: string, option: string, value: unknown): number {
  const n = number(operator, option, value, 'a positive finite number');
  if (!Number.isFinite(n) || n <= 0) fail(operator, option, 'a positive finite number', n, 'range');
  return n;
}

/** A finite number >= 0. */
export function nonNegativeNumber(operator: string, option: string, value: unknown): number {
  const n = number(operator, option, value, 'a finite number >= 0');
  if (!Number.isFinite(n) || n < 0) fail(operator, option, 'a finite number >= 0', n, 'range');
  return n;
}

/** A number in [0, 1]. */
export function probability(operator: string, option: string, value: unknown): number {
  const n = number(operator, option, value, 'a number between 0 and 1');
  if (!(n >= 0 && n <= 1)) fail(operator, option, 'a number between 0 and 1', n, 'range');
  return n;
}

/** A positive finite number that also passes `ok` (described by `expected`). */
export function bounded(expected: string, ok: (n: number) => boolean): Check<number> {
  return (operator, option, value) => {
    const n = number(operator, option, value, expected);
    if (!(Number.isFinite(n) && n > 0 && ok(n))) fail(operator, option, expected, n, 'range');
    return n;
  };
}

export function callback<F extends (...args: never[]) => unknown>(operator: string, option: string, value: unknown): F {
  if (typeof value !== 'function') fail(operator, option, 'a function', value, 'type');
  return value as F;
}

/** The check of a function-valued option, typed `F`. */
export function fn<F extends (...args: never[]) => unknown>(): Check<F> {
  return callback as Check<F>;
}

/** true or false. */
export function boolean(operator: string, option: string, value: unknown): boolean {
  if (value !== true && value !== false) fail(operator, option, 'a boolean', value, 'type');
  return value;
}

/** One of `allowed` (a string). */
export function oneOf<S extends string>(allowed: readonly S[]): Check<S> {
  return (operator, option, value) => {
    if (typeof value !== 'string' || !allowed.includes(value as S)) {
      fail(operator, option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value, 'type');
    }
    return value as S;
  };
}

export function scheduler(operator: string, option: string, value: unknown): SchedulerLike {
  const s = value as SchedulerLike | null;
  if (typeof s !== 'object' || s === null || typeof s.now !== 'function' || typeof s.schedule !== 'function') {
    fail(operator, option, 'a SchedulerLike (with now() and schedule())', value, 'type');
  }
  return s;
}

/** A function, or an object with at least one of next/error/complete as functions (like tap's observer). */
export function observerOrFunction<V>(operator: string, option: string, value: unknown): V {
  if (typeof value === 'function') return value as V;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    const fields = ['next', 'error', 'complete'].filter((k) => o[k] !== undefined);
    if (fields.every((k) => typeof o[k] === 'function')) return value as V;
  }
  return fail(operator, option, 'a function or an Observer', value, 'type');
}

export function demandInput<V>(operator: string, option: string, value: unknown): V {
  // A string is an iterable of characters, never a stream of credits.
  if (typeof value === 'string' || !isObservableInput(value)) {
    fail(operator, option, 'a Demand or an ObservableInput of credits', value, 'type');
  }
  return value as V;
}

/** An object with the named methods (recognised by shape, so a copy from another install of the package passes). */
export function shaped<V>(expected: string, methods: readonly string[]): Check<V> {
  return (operator, option, value) => {
    const o = value as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || !methods.every((m) => typeof o[m] === 'function')) {
      fail(operator, option, expected, value, 'type');
    }
    return value as V;
  };
}
