import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscriber } from 'rxjs';
import { Clock } from '../internal/clock.js';
import { reportUnhandled } from '../internal/ledger.js';
import { fail, fn, oneOf, positiveInteger, scheduler, settings, withDefault } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import { Aimd, Gradient2, Vegas } from './algorithms.js';
import type { Algorithm } from './algorithms.js';
import { LIMITER } from './port.js';
import type { ConcurrencyLimiter, LimiterPort } from './port.js';

/** The update rule of an {@link adaptiveConcurrency} limiter. */
export type LimitAlgorithm = 'gradient2' | 'vegas' | 'aimd';

/** Options of {@link adaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /** How the limit moves (see {@link adaptiveConcurrency}). Default `'gradient2'`. */
  algorithm?: LimitAlgorithm | undefined;
  /** The limit to start from, a positive integer in [min, max]. Default 4. */
  initial?: number | undefined;
  /** The limit never goes below this, a positive integer. Default 1. */
  min?: number | undefined;
  /** The limit never goes above this, a positive integer. Default 256. */
  max?: number | undefined;
  /**
   * Which project errors mean "overloaded" (a 503, a timeout) and so lower the limit; an error it rejects counts as a
   * sample like a success. Default: every error. If it throws, the error counts as a drop and what it threw goes to
   * rxjs' `config.onUnhandledError`.
   */
  isDrop?: ((error: unknown) => boolean) | undefined;
  /** The clock project durations are measured on (default `asyncScheduler`). */
  scheduler?: SchedulerLike | undefined;
}

const ALGORITHMS: readonly LimitAlgorithm[] = ['gradient2', 'vegas', 'aimd'];

const ADAPTIVE_CONCURRENCY = {
  algorithm: withDefault(oneOf(ALGORITHMS), 'gradient2'),
  initial: withDefault(positiveInteger, 4),
  min: withDefault(positiveInteger, 1),
  max: withDefault(positiveInteger, 256),
  isDrop: withDefault(fn<(error: unknown) => boolean>(), () => true),
  scheduler: withDefault(scheduler, asyncScheduler),
} satisfies Schema<AdaptiveConcurrencyOptions>;

/** A window closes once it holds this many samples and has lasted 2 x its smallest RTT, within [100, 1000] ms. */
const WINDOW_SAMPLES = 10;
const WINDOW_MIN = 100;
const WINDOW_MAX = 1000;

/**
 * A concurrency limit that finds the downstream's capacity by itself, for `drain(project, { concurrency })`: it moves
 * with the measured duration of each project and with drops, within [min, max] (after Netflix concurrency-limits).
 *
 * Every project's duration (on the limiter's scheduler) and outcome is a sample. Samples are aggregated per window
 * (at least 10 samples and 2 x the smallest RTT of the window, between 100 ms and 1 s) and the limit moves once per
 * window, never per sample:
 *
 * - `'gradient2'` (default): compares each window's RTT with a long average of them (the no-load latency) and scales
 *   the limit by that ratio, plus a small allowance for growth (2, or a tenth of the limit); backs off 10% on a drop.
 *   Settles a little above the downstream's true concurrency and follows it smoothly. Pick it for a downstream that
 *   slows down when overloaded (a database, a service whose latency grows with load), with noisy latencies.
 * - `'vegas'`: estimates the calls queued at the downstream from the no-load RTT (the smallest seen) and keeps 3 to 6
 *   of them queued (more above a limit of 100): +6 when nothing queues, so it finds the limit fast; -1 above, or on a
 *   drop. Pick it when latency is stable and the lowest latency is meaningful; it holds a small, steady queue.
 * - `'aimd'`: +1 per window, x0.9 on a drop; it reads no latency. Pick it when the downstream says it is overloaded
 *   (503s, rate limit errors, timeouts through `isDrop`) rather than slowing down.
 *
 * None grows while fewer than half the permits are in use. One limiter may be shared by several drains: their
 * projects together never exceed the limit (one downstream, one limit). When the limit falls below the projects
 * already running, none is cancelled: new ones wait until fewer run. `limit$` emits the limit on subscribe and every
 * change, for dashboards (`registerConcurrencyLimiter` in `rxjs-backpressure/prometheus`). No timer runs: the limit
 * moves when samples arrive.
 *
 * ```
 * downstream:  true concurrency 20 until 60 s, then 10, then 20 again from 120 s (latency grows above it)
 * drain(call, { concurrency: adaptiveConcurrency() })          flooded
 * limit$:      4 ... 22 ..................... 11 ................... 22
 * ```
 *
 * ## Example
 * ```ts
 * import { dropOnFull, drain, adaptiveConcurrency } from 'rxjs-backpressure';
 *
 * const limiter = adaptiveConcurrency({ algorithm: 'gradient2', max: 64 });
 * limiter.limit$.subscribe((limit) => console.log(`search concurrency ${limit}`));
 * queries$.pipe(dropOnFull({ capacity: 500 }), drain((q: string) => search(q), { concurrency: limiter })).subscribe();
 * ```
 *
 * @param options `algorithm`, `initial`, `min`, `max`, `isDrop`, `scheduler` (all optional)
 * @see {@link drain} which runs projects under it
 */
export function adaptiveConcurrency(options: AdaptiveConcurrencyOptions = {}): ConcurrencyLimiter {
  const s = settings('adaptiveConcurrency', ADAPTIVE_CONCURRENCY, options);
  if (s.min > s.max) fail('adaptiveConcurrency', 'min', `at most max (${s.max})`, s.min, 'range');
  if (s.initial < s.min || s.initial > s.max) {
    fail('adaptiveConcurrency', 'initial', `between min (${s.min}) and max (${s.max})`, s.initial, 'range');
  }
  const algorithm = s.algorithm === 'gradient2' ? new Gradient2() : s.algorithm === 'vegas' ? new Vegas() : new Aimd();
  return new AdaptiveLimiter(algorithm, s.initial, s.min, s.max, s.isDrop, s.scheduler);
}

class AdaptiveLimiter implements ConcurrencyLimiter {
  readonly limit$: Observable<number>;
  /** @internal the port a drain runs under (see limit/port.ts) */
  readonly [LIMITER]: LimiterPort;

  private estimate: number;
  private current: number;
  private held = 0;
  private readonly clock: Clock;
  private readonly listeners = new Set<() => void>();
  private readonly watchers = new Set<Subscriber<number>>();
  // the open window
  private opened = -1;
  private samples = 0;
  private timed = 0;
  private rttSum = 0;
  private minRtt = Infinity;
  private maxInFlight = 0;
  private dropped = false;
  private duration = WINDOW_MIN;

  constructor(
    private readonly algorithm: Algorithm,
    initial: number,
    private readonly min: number,
    private readonly max: number,
    private readonly isDrop: (error: unknown) => boolean,
    scheduler: SchedulerLike,
  ) {
    this.estimate = this.current = initial;
    this.clock = new Clock(scheduler);
    this.limit$ = new Observable<number>((subscriber) => {
      subscriber.next(this.current);
      this.watchers.add(subscriber);
      return () => this.watchers.delete(subscriber);
    });
    this[LIMITER] = {
      tryAcquire: () => {
        if (this.held >= this.current) return false;
        this.held++;
        return true;
      },
      release: (sample) => {
        const inFlight = this.held;
        this.held--;
        if (sample !== undefined) this.sample(sample.rtt, sample.failed && this.drop(sample.error), inFlight);
        this.available();
      },
      onAvailable: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      now: () => this.clock.now(),
    };
  }

  get limit(): number {
    return this.current;
  }

  private drop(error: unknown): boolean {
    try {
      return this.isDrop(error) === true;
    } catch (thrown) {
      reportUnhandled(thrown);
      return true;
    }
  }

  /** Adds a sample to the open window; closes it once it is full and long enough, and moves the limit. */
  private sample(rtt: number, dropped: boolean, inFlight: number): void {
    const now = this.clock.now();
    if (this.samples === 0) this.opened = now;
    this.samples++;
    if (dropped) this.dropped = true;
    else {
      this.timed++;
      this.rttSum += rtt;
      if (rtt < this.minRtt) this.minRtt = rtt;
    }
    if (inFlight > this.maxInFlight) this.maxInFlight = inFlight;
    if (this.samples < WINDOW_SAMPLES || now - this.opened < this.duration) return;
    const window = {
      rtt: this.timed === 0 ? undefined : this.rttSum / this.timed,
      maxInFlight: this.maxInFlight,
      dropped: this.dropped,
      duration: now - this.opened,
    };
    if (this.minRtt !== Infinity) this.duration = Math.min(WINDOW_MAX, Math.max(WINDOW_MIN, 2 * this.minRtt));
    this.samples = this.timed = this.rttSum = this.maxInFlight = 0;
    this.minRtt = Infinity;
    this.dropped = false;
    const next = this.algorithm.update(this.estimate, window);
    this.estimate = Math.min(this.max, Math.max(this.min, Number.isFinite(next) ? next : this.estimate));
    const limit = Math.floor(this.estimate);
    if (limit === this.current) return;
    this.current = limit;
    for (const watcher of [...this.watchers]) watcher.next(limit);
  }

  /** Permits may be free: tell every drain waiting for one. */
  private available(): void {
    if (this.held >= this.current) return;
    for (const listener of [...this.listeners]) listener();
  }
}
