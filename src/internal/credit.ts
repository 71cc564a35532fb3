import { from } from 'rxjs';
import type { Subscription } from 'rxjs';
import type { DemandInput } from '../types.js';
import { describe } from './format.js';

/** True for a legal request(n): a positive integer or Infinity (Reactive Streams 3.9). */
export function isCredit(n: unknown): n is number {
  return typeof n === 'number' && (n === Infinity || (Number.isInteger(n) && n > 0));
}

export function creditError(operator: string, n: unknown): RangeError {
  return new RangeError(`${operator}: demand credit must be a positive integer or Infinity, got ${describe(n)}`);
}

/**
 * Adds credit, saturating at Infinity once the sum passes 2^53 - 1 (Reactive Streams 3.17: a huge total means
 * unbounded, never an error).
 */
export function addCredit(credit: number, n: number): number {
  const sum = credit + n;
  return sum > Number.MAX_SAFE_INTEGER ? Infinity : sum;
}

/**
 * Subscribes to a stream of credits. Every legal credit goes to `onCredit`; an illegal one, or an error of the
 * stream, goes to `onError` (with a RangeError naming the operator for an illegal credit).
 */
export function subscribeCredits(
  operator: string,
  input: DemandInput,
  onCredit: (n: number) => void,
  onError: (error: unknown) => void,
): Subscription {
  let failed = false;
  const subscription = from(input).subscribe({
    next: (n) => {
      if (failed) return;
      if (isCredit(n)) onCredit(n);
      else {
        failed = true;
        onError(creditError(operator, n));
      }
    },
    error: onError,
  });
  if (failed) subscription.unsubscribe();
  return subscription;
}
