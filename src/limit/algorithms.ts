/**
 * The update rules of the adaptive concurrency limiters, after Netflix concurrency-limits (Gradient2Limit, VegasLimit,
 * AIMDLimit). Each takes the current limit estimate and one window of samples, and returns the next estimate; the
 * limiter keeps it within [min, max] and exposes its integer part.
 *
 * Samples are never applied one by one: the limiter aggregates them per window (mean RTT, smallest RTT, the most
 * permits held, whether any was a drop), as Netflix's WindowedLimit does, so one slow outlier moves nothing.
 */

/** One window of samples, as an update rule sees it. */
export interface SampleWindow {
  /** Mean duration of the projects that were not drops, ms; undefined when every sample was a drop. */
  readonly rtt: number | undefined;
  /** The most permits held at once when a sample of the window ended. */
  readonly maxInFlight: number;
  /** Some project of the window failed with an error `isDrop` accepts (overload: a 503, a timeout). */
  readonly dropped: boolean;
  /** How long the window lasted, ms. */
  readonly duration: number;
}

export interface Algorithm {
  update(limit: number, window: SampleWindow): number;
}

/** `floor(log10(n))`, at least 1 (Netflix's Log10RootFunction). */
function log10(n: number): number {
  return Math.max(1, Math.floor(Math.log10(n)));
}

/**
 * Exponential average with a time constant of `span` ms, a plain average over the first ten samples (after Netflix's
 * ExpAvgMeasurement, which averages over 600 windows of 1 s: here windows may be shorter, so the span is in time).
 */
class Average {
  private value = 0;
  private count = 0;

  constructor(private readonly span: number) {}

  add(sample: number, duration: number): number {
    if (this.count < 10) {
      this.count++;
      this.value += (sample - this.value) / this.count;
    } else {
      const factor = Math.min(1, (2 * duration) / (this.span + duration));
      this.value = this.value * (1 - factor) + sample * factor;
    }
    return this.value;
  }

  scale(by: number): number {
    return (this.value *= by);
  }
}

/**
 * Gradient2: compares the window's RTT (short) with a long exponential average of window RTTs (the no-load
 * estimate, over 10 minutes) and moves the limit by their ratio.
 *
 * `gradient = clamp(long / short, 0.5, 1)`, `next = limit x gradient + queue`, smoothed 20%: while latency holds at
 * its long-run value the limit grows by the whole of `queue` (2, or a tenth of the limit) per window, unsmoothed; when
 * latency rises it shrinks in proportion, smoothed. A window with a drop backs off 10%. When latency falls back below
 * half the long average (after an overload ended), the long average is pulled down 5% per window instead of waiting
 * for it to decay. It does not grow while fewer than half the permits are used (an idle caller proves nothing).
 *
 * Differences from Netflix's Gradient2Limit, deliberate: no 1.5 RTT tolerance (it let the limit settle at 1.5x the
 * true concurrency against a downstream that queues), a queue allowance that grows with the limit, unsmoothed growth
 * while nothing queues (from the initial 4 it reaches 32 in about 12 windows instead of 70), and drops count.
 */
export class Gradient2 implements Algorithm {
  private readonly long = new Average(600_000);

  update(limit: number, window: SampleWindow): number {
    const short = window.rtt;
    let long = short === undefined ? undefined : this.long.add(short, window.duration);
    if (short !== undefined && long !== undefined && long / short > 2) long = this.long.scale(0.95);
    if (window.dropped) return limit * 0.9;
    if (short === undefined || long === undefined || window.maxInFlight < limit / 2) return limit;
    const gradient = Math.max(0.5, Math.min(1, long / short));
    const queue = Math.max(2, limit / 10);
    // no queueing seen: grow by the whole allowance (a limit far below the downstream's finds it in a few windows)
    if (gradient === 1) return limit + queue;
    return limit * 0.8 + (limit * gradient + queue) * 0.2;
  }
}

/**
 * Vegas (TCP Vegas): estimates how many calls are queued at the downstream from the no-load RTT (the smallest window
 * RTT seen) and the current one, `queue = ceil(limit x (1 - noLoad / rtt))`, and keeps that between `alpha` and
 * `beta` (3 and 6 below a limit of 100, then 3 and 6 times log10 of it): +beta when nothing queues, +log10 when a
 * little does, -log10 above beta or on a drop. The no-load RTT is re-measured every 30 x limit windows (a probe), so a
 * downstream that became slower for good is learnt again.
 */
export class Vegas implements Algorithm {
  private noLoad = 0;
  private sinceProbe = 0;

  update(limit: number, window: SampleWindow): number {
    const rtt = window.rtt;
    const step = log10(limit);
    if (rtt !== undefined) {
      if (++this.sinceProbe >= 30 * limit) {
        this.sinceProbe = 0;
        this.noLoad = rtt;
        return window.dropped ? limit - step : limit;
      }
      if (this.noLoad === 0 || rtt < this.noLoad) {
        this.noLoad = rtt;
        return window.dropped ? limit - step : limit;
      }
    }
    if (window.dropped) return limit - step;
    if (rtt === undefined || window.maxInFlight * 2 < limit) return limit;
    const queue = Math.ceil(limit * (1 - this.noLoad / rtt));
    if (queue <= step) return limit + 6 * step;
    if (queue < 3 * step) return limit + step;
    if (queue > 6 * step) return limit - step;
    return limit;
  }
}

/**
 * AIMD: additive increase, multiplicative decrease. +1 per window while at least half the permits are used, x0.9 on
 * a window with a drop. It reads no latency at all: it finds the limit only where the downstream says it is
 * overloaded (errors `isDrop` accepts).
 */
export class Aimd implements Algorithm {
  update(limit: number, window: SampleWindow): number {
    if (window.dropped) return limit * 0.9;
    return window.maxInFlight * 2 >= limit ? limit + 1 : limit;
  }
}
