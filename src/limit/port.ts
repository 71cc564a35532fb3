import type { Observable } from 'rxjs';

/**
 * A limit on how many projects may run at once, shared by every drain given it: `drain(project, { concurrency:
 * limiter })`. `limit` is the current limit, `limit$` emits it now and on every change (for dashboards).
 */
export interface ConcurrencyLimiter {
  readonly limit: number;
  readonly limit$: Observable<number>;
}

/**
 * The port a drain uses to run under a {@link ConcurrencyLimiter}, found under a registered symbol so that a limiter
 * from another copy of the package works alike. Version 1.
 *
 * A drain holds one permit for every credit it has granted its producer and every project it runs, so the projects of
 * all drains sharing a limiter never exceed its limit. It takes a permit before it grants a credit
 * (`tryAcquire`), gives it back when the project for that credit has ended, with what the limiter learns from it
 * (`release`), and waits for `onAvailable` when no permit was free. Not public API: a limiter's member holding the
 * port is tagged internal, so it is stripped from the published types (a tag here would strip the declaration that
 * drain.ts still names).
 */
export const LIMITER: unique symbol = Symbol.for('rxjs-backpressure.concurrency-limiter.v1') as never;

/** The limiter port, version 1 (not public API, see {@link LIMITER}). */
export interface LimiterPort {
  /** Takes one permit if fewer than `limit` are held; false otherwise. */
  tryAcquire(): boolean;
  /**
   * Gives a permit back. `sample` tells what its project did: it ran `rtt` ms (on `now()`), and succeeded or failed
   * with `error` (the limiter's `isDrop` decides whether that means overload). Undefined when the permit backed a
   * credit no project used (the drain ended first).
   */
  release(sample?: { rtt: number; error?: unknown; failed: boolean }): void;
  /** Calls `listener` whenever permits may have become free (a release, a higher limit); returns the unsubscribe. */
  onAvailable(listener: () => void): () => void;
  /** The clock project durations are measured on. */
  now(): number;
}

/** The port of a ConcurrencyLimiter from any copy of the package, or undefined. */
export function limiterPort(value: unknown): LimiterPort | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const port = (value as { [LIMITER]?: unknown })[LIMITER] as LimiterPort | undefined;
  return typeof port === 'object' && port !== null && typeof port.tryAcquire === 'function' ? port : undefined;
}
