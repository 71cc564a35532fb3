import { fail } from '../internal/options.js';
import type { Check } from '../internal/options.js';
import type { WindowSnapshot } from './windows.js';

/** Where a circuit stands: letting calls through, refusing them, trying a few, or held open by hand. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

export const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/**
 * A breaker's state as plain JSON, from {@link CircuitBreaker.toJSON}; give it back as `options.initialState`.
 *
 * Times are the breaker scheduler's `now()`. `since` is when the state was entered (for `'open'`: when it opened).
 * `window` is present while closed and windowed; it is restored only into a window of the same kind and size.
 */
export interface CircuitBreakerSnapshot {
  version: 1;
  state: CircuitState;
  since: number;
  /** Consecutive failures counted so far (closed only; 0 otherwise). */
  consecutiveFailures: number;
  window?: WindowSnapshot | undefined;
}

/** The check of `initialState`: a snapshot as {@link CircuitBreaker.toJSON} makes them (any copy of the package). */
export const snapshotCheck: Check<CircuitBreakerSnapshot> = (operator, option, value) => {
  const expected = 'a CircuitBreakerSnapshot from toJSON()';
  if (typeof value !== 'object' || value === null) fail(operator, option, expected, value, 'type');
  const s = value as Record<string, unknown>;
  if (s['version'] !== 1) fail(operator, `${option}.version`, '1', s['version'], 'type');
  if (!STATES.includes(s['state'] as CircuitState)) {
    fail(operator, `${option}.state`, STATES.map((x) => `'${x}'`).join(', '), s['state'], 'type');
  }
  if (typeof s['since'] !== 'number' || !Number.isFinite(s['since'])) {
    fail(operator, `${option}.since`, 'a finite number', s['since'], 'type');
  }
  const consecutive = s['consecutiveFailures'];
  if (typeof consecutive !== 'number' || !Number.isSafeInteger(consecutive) || consecutive < 0) {
    fail(operator, `${option}.consecutiveFailures`, 'an integer >= 0', consecutive, 'type');
  }
  const window = s['window'] as Record<string, unknown> | undefined;
  if (window !== undefined) {
    const valid =
      typeof window === 'object' &&
      window !== null &&
      ((window['kind'] === 'count' && Array.isArray(window['outcomes'])) ||
        (window['kind'] === 'time' && Array.isArray(window['buckets'])));
    if (!valid) fail(operator, `${option}.window`, 'a window snapshot', window, 'type');
  }
  return value as CircuitBreakerSnapshot;
};
