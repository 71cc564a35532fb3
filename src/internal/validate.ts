import type { SchedulerLike } from 'rxjs';
import { isObservableInput } from './input.js';

/** Construction-time checks. Each throws at the call that created the operator, naming operator and option. */

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
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
      throw new TypeError(`${operator}: unknown option "${key}" (known: ${known.join(', ')})`);
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

export function callback<F extends (...args: never[]) => unknown>(operator: string, option: string, value: unknown): F {
  if (typeof value !== 'function') fail(operator, option, 'a function', value, 'type');
  return value as F;
}

export function oneOf<S extends string>(operator: string, option: string, value: unknown, allowed: readonly S[]): S {
  if (typeof value !== 'string' || !allowed.includes(value as S)) {
    fail(operator, option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value, 'type');
  }
  return value as S;
}

export function scheduler(operator: string, value: unknown): SchedulerLike {
  const s = value as SchedulerLike | null;
  if (typeof s !== 'object' || s === null || typeof s.now !== 'function' || typeof s.schedule !== 'function') {
    fail(operator, 'scheduler', 'a SchedulerLike (with now() and schedule())', value, 'type');
  }
  return s;
}

/** A function, or an object with at least one of next/error/complete as functions (like tap's observer). */
export function observerOrFunction(operator: string, option: string, value: unknown): void {
  if (typeof value === 'function') return;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    const fields = ['next', 'error', 'complete'].filter((k) => o[k] !== undefined);
    if (fields.every((k) => typeof o[k] === 'function')) return;
  }
  fail(operator, option, 'a function or an Observer', value, 'type');
}

export function demandInput(operator: string, option: string, value: unknown): void {
  // A string is an iterable of characters, never a stream of credits.
  if (typeof value === 'string' || !isObservableInput(value)) {
    fail(operator, option, 'a Demand or an ObservableInput of credits', value, 'type');
  }
}
