import { bounded, nonNegativeNumber, probability, settings, withDefault } from '../internal/options.js';
import type { Schema, Settings } from '../internal/options.js';

/** Which of the three queue alerts. */
export type QueueAlertKind = 'depth' | 'dropRate' | 'queueTime';

/** Whether an alert's condition holds. */
export type QueueAlertState = 'raised' | 'cleared';

/**
 * One transition of a queue alert, as emitted by {@link QueueMetrics.alerts}.
 *
 * `value` is what was measured at the evaluation (`depth`: depth / capacity; `dropRate`: the share of values that left
 * the queues in the last interval by being dropped; `queueTime`: p99 queue time in ms of the values dequeued in the
 * last interval, or the age of the oldest value still queued if longer), `threshold` the limit it was compared with,
 * `at` the time of the evaluation (the metrics' scheduler, read through a clock that never goes backwards).
 */
export interface QueueAlert {
  kind: QueueAlertKind;
  state: QueueAlertState;
  value: number;
  threshold: number;
  at: number;
}

/** Thresholds of {@link QueueMetrics.alerts}. */
export interface QueueAlertThresholds {
  /** Raise while depth > depthRatio × capacity: a number in [0, 1]. Default 0.8. */
  depthRatio?: number | undefined;
  /** Raise while dropped / (dequeued + dropped) over the last interval > dropRate: a number in [0, 1]. Default 0.01. */
  dropRate?: number | undefined;
  /** Raise while the p99 queue time (ms) of the values dequeued in the last interval > this. Default 5000. */
  queueTimeP99?: number | undefined;
  /** Ms of scheduler time between evaluations, in (0, 60000]. Default 1000. */
  interval?: number | undefined;
  /**
   * Ms a condition must have held, at every evaluation since the first that saw it, before the alert is raised (a
   * Prometheus alerting rule's `for`): a finite number >= 0. Default 0 (raised at the first evaluation that sees it).
   */
  for?: number | undefined;
}

/** The longest evaluation interval: an alert is raised or cleared within one interval of its condition changing. */
export const MAX_INTERVAL = 60_000;

const ALERTS_SCHEMA = {
  depthRatio: withDefault(probability, 0.8),
  dropRate: withDefault(probability, 0.01),
  queueTimeP99: withDefault(nonNegativeNumber, 5000),
  interval: withDefault(
    bounded(`a number in (0, ${MAX_INTERVAL}]`, (n) => n <= MAX_INTERVAL),
    1000,
  ),
  for: withDefault(nonNegativeNumber, 0),
} satisfies Schema<QueueAlertThresholds>;

/** Validated thresholds, defaults applied. */
export type AlertLimits = Settings<typeof ALERTS_SCHEMA>;

export function alertLimits(thresholds: unknown): AlertLimits {
  return settings('QueueMetrics.alerts', ALERTS_SCHEMA, thresholds);
}

/**
 * Where one alert stands, as a Prometheus alerting rule: inactive; pending since the first evaluation at which its
 * condition held (not raised while it has held for less than `for`); firing (raised).
 */
export type AlertPhase = { kind: 'inactive' } | { kind: 'pending'; since: number } | { kind: 'firing' };

/**
 * The next phase of one alert at an evaluation at time `at` where its condition `holds` (or not), and the transition
 * to emit, if any. A condition that stops holding clears a firing alert at once and sends a pending one back to
 * inactive, so a flap shorter than `for` is never raised and the next one waits the whole `for` again.
 */
export function judge(
  phase: AlertPhase,
  holds: boolean,
  at: number,
  holdFor: number,
): { phase: AlertPhase; transition?: QueueAlertState } {
  if (!holds) {
    return phase.kind === 'firing' ? { phase: INACTIVE, transition: 'cleared' } : { phase: INACTIVE };
  }
  if (phase.kind === 'firing') return { phase };
  const since = phase.kind === 'pending' ? phase.since : at;
  return at - since >= holdFor ? { phase: FIRING, transition: 'raised' } : { phase: { kind: 'pending', since } };
}

const INACTIVE: AlertPhase = { kind: 'inactive' };
const FIRING: AlertPhase = { kind: 'firing' };
