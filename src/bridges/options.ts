import { isObservable } from 'rxjs';
import type { Observable } from 'rxjs';
import {
  fail,
  observerOrFunction,
  oneOf,
  optional,
  positiveInteger,
  settings,
  withDefault,
} from '../internal/options.js';
import type { Schema, Settings } from '../internal/options.js';
import type { DropHandler } from '../types.js';

/** What a bridge does with a value that finds `capacity` values already held ahead of the reader. */
export type BridgeOverflow = 'error' | 'drop-oldest' | 'drop-incoming';

/** Options of {@link toAsyncIterable} and {@link toReadableStream}. */
export interface BridgeOptions<T> {
  /** Values held ahead of the reader: a positive integer, default 16. */
  capacity?: number | undefined;
  /**
   * A value from a source that does not obey demand, arriving when `capacity` values are held: `'error'` (default)
   * reports it `'overflow'`, stops the source, delivers the values held before it, then throws a
   * `BufferOverflowError` to the reader; `'drop-incoming'` reports it `'overflow'`; `'drop-oldest'` evicts the oldest
   * value held (reason `'evicted'`) and holds the arrival.
   */
  overflow?: BridgeOverflow | undefined;
  /** Told of every value dropped: `'overflow'`, `'evicted'`, and `'cancelled'` for values held when the reader left. */
  onDrop?: DropHandler<T> | undefined;
}

const BRIDGE = {
  capacity: withDefault(positiveInteger, 16),
  overflow: withDefault(oneOf<BridgeOverflow>(['error', 'drop-oldest', 'drop-incoming']), 'error'),
  onDrop: optional(observerOrFunction<DropHandler<unknown>>),
} satisfies Schema<BridgeOptions<unknown>>;

/** The validated options of a reading bridge. */
export type BridgeSettings = Settings<typeof BRIDGE>;

/** Checks a reading bridge's arguments at the call that creates it. */
export function bridgeSettings<T>(
  operator: string,
  source: Observable<T>,
  options: BridgeOptions<T> | undefined,
): BridgeSettings {
  if (!isObservable(source)) fail(operator, 'source', 'an Observable', source, 'type');
  return settings(operator, BRIDGE, options ?? {});
}
