import { checkOptions, fail, nonNegativeNumber, positiveNumber, probability } from '../internal/options.js';

/** Which of the three queue alerts. */
export type QueueAlertKind = 'depth' | 'dropRate' | 'queueTime';

/** Whether an alert's condition holds. */
export type QueueAlertState = 'raised' | 'cleared';

/**
 * One transition of a queue alert, as emitted by {@link QueueMetrics.alerts}.
 *
 * `value` is what was measured at the evaluation (`depth`: depth / capacity; `dropRate`: the share of values that left
 * the queues in the last interval by being dropped; `queueTime`: p99 queue time in ms of the values dequeued in the
 * last interval), `threshold` the limit it was compared with, `at` the scheduler time of the evaluation.
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
  /** Ms of scheduler time between evaluations, in (0, 1000]. Default 1000. */
  interval?: number | undefined;
}

/** Validated thresholds, defaults applied. */
export interface AlertLimits {
  depthRatio: number;
  dropRate: number;
  queueTimeP99: number;
  interval: number;
}

const OPERATOR = 'QueueMetrics.alerts';

/** The longest evaluation interval: the contract promises a transition within 1 s of scheduler time. */
export const MAX_INTERVAL = 1000;

export function alertLimits(thresholds: unknown): AlertLimits {
  checkOptions(OPERATOR, thresholds, ['depthRatio', 'dropRate', 'queueTimeP99', 'interval']);
  const t = thresholds as QueueAlertThresholds;
  const interval = t.interval === undefined ? MAX_INTERVAL : positiveNumber(OPERATOR, 'interval', t.interval);
  if (interval > MAX_INTERVAL) fail(OPERATOR, 'interval', `a number in (0, ${MAX_INTERVAL}]`, interval, 'range');
  return {
    depthRatio: t.depthRatio === undefined ? 0.8 : probability(OPERATOR, 'depthRatio', t.depthRatio),
    dropRate: t.dropRate === undefined ? 0.01 : probability(OPERATOR, 'dropRate', t.dropRate),
    queueTimeP99: t.queueTimeP99 === undefined ? 5000 : nonNegativeNumber(OPERATOR, 'queueTimeP99', t.queueTimeP99),
    interval,
  };
}
