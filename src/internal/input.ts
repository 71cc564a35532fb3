import { isObservable } from 'rxjs';

/** True if `from()` accepts the value (Observable, interop observable, Promise, array-like, iterables, ReadableStream). */
export function isObservableInput(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (isObservable(value)) return true;
  if (typeof value === 'string') return true;
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  const v = value as Record<PropertyKey, unknown>;
  return (
    typeof v[(typeof Symbol === 'function' && Symbol.observable) || '@@observable'] === 'function' ||
    typeof v['then'] === 'function' ||
    typeof v[Symbol.iterator] === 'function' ||
    typeof v[Symbol.asyncIterator] === 'function' ||
    typeof v['getReader'] === 'function' ||
    (typeof v['length'] === 'number' && typeof value !== 'function')
  );
}
