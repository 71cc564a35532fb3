import { asyncScheduler, from } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';

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

/**
 * The port of a ConcurrencyLimiter: the one a limiter of this package (from any copy) carries, or, for a limiter
 * written by hand (any object with a numeric `limit` and an Observable `limit$`), permits counted against its `limit`,
 * one count per limiter object, so drains sharing it share the limit. Undefined for anything else.
 */
export function limiterPort(value: unknown): LimiterPort | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const port = (value as { [LIMITER]?: unknown })[LIMITER] as LimiterPort | undefined;
  if (typeof port === 'object' && port !== null && typeof port.tryAcquire === 'function') return port;
  const limiter = value as Partial<ConcurrencyLimiter>;
  if (typeof limiter.limit !== 'number' || typeof limiter.limit$?.subscribe !== 'function') return undefined;
  let hand = HAND_PORTS.get(value);
  if (hand === undefined) HAND_PORTS.set(value, (hand = handPort(limiter as ConcurrencyLimiter)));
  return hand;
}

const HAND_PORTS = new WeakMap<object, LimiterPort>();

/**
 * Permits for a hand-written limiter: at most `limit` held (read at every take, so a lower limit takes effect as
 * permits come back), listeners told on every release and every emission of `limit$` (watched only while a drain
 * listens). It learns nothing from the samples: a hand-written limiter sets its limit itself.
 */
function handPort(limiter: ConcurrencyLimiter): LimiterPort {
  let held = 0;
  const listeners = new Set<() => void>();
  let watching: Subscription | undefined;
  let subscribing = false;
  const notify = (): void => {
    if (subscribing) return; // limit$'s current value, emitted while it is subscribed: nothing changed
    for (const listener of [...listeners]) listener();
  };
  return {
    tryAcquire: () => {
      if (held >= limiter.limit) return false;
      held++;
      return true;
    },
    release: () => {
      if (held > 0) held--;
      notify();
    },
    onAvailable: (listener) => {
      listeners.add(listener);
      if (watching === undefined) {
        subscribing = true;
        try {
          watching = from(limiter.limit$).subscribe(notify);
        } finally {
          subscribing = false;
        }
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          watching?.unsubscribe();
          watching = undefined;
        }
      };
    },
    now: () => asyncScheduler.now(),
  };
}
