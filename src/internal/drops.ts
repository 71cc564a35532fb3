import type { SchedulerLike } from 'rxjs';
import type { DropHandler, DropReason, Dropped } from '../types.js';

/** Turns an `onDrop` option (function or Observer) into one function; undefined when nobody listens. */
export function dropReporter<T>(
  handler: DropHandler<T> | undefined,
  scheduler: SchedulerLike,
): ((value: T, reason: DropReason) => void) | undefined {
  if (handler === undefined) return undefined;
  if (typeof handler === 'function') {
    return (value, reason) => handler({ value, reason, at: scheduler.now() });
  }
  if (typeof handler.next !== 'function') return undefined;
  return (value, reason) => {
    const drop: Dropped<T> = { value, reason, at: scheduler.now() };
    handler.next!(drop);
  };
}
