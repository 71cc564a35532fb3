import { from } from 'rxjs';
import type { ObservableInput } from 'rxjs';

/**
 * True if `from()` accepts the value (Observable, interop observable, Promise, array-like, iterables, ReadableStream).
 * Asked of `from()` itself, which only looks at the value (it subscribes, iterates or awaits nothing until its result
 * is subscribed), so this never disagrees with the rxjs version installed.
 */
export function isObservableInput(value: unknown): boolean {
  try {
    from(value as ObservableInput<unknown>);
    return true;
  } catch {
    return false;
  }
}
