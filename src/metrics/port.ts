import type { DropReason } from '../types.js';

/**
 * The recording port of a {@link QueueMetrics}: what an operator tells it, found under a registered symbol so that a
 * QueueMetrics made by another copy of the package (ESM and CommonJS, two installs) is recognised and fed alike.
 * Version 1; a later version gets a new symbol, and a QueueMetrics may answer under both. Not public API (the member
 * of QueueMetrics holding it is tagged internal, so it is stripped from the published types; a tag here would strip
 * the declaration that the modules importing it still name).
 */
export const RECORDER: unique symbol = Symbol.for('rxjs-backpressure.queue-metrics.v1') as never;

/** The recording port, version 1 (not public API, see {@link RECORDER}). */
export interface QueueRecorder {
  /** An operator subscription with this capacity starts (or its capacity changes by `delta`). */
  capacity(delta: number): void;
  /** A queue starts reporting: its oldest queued value counts in the queue-time alert. */
  watch(queue: { oldestTime(): number | undefined }): void;
  unwatch(queue: { oldestTime(): number | undefined }): void;
  /** A value was received. */
  received(): void;
  /** A received value went into the queue. */
  queued(): void;
  /** A value was emitted after waiting `wait` ms (0 when delivered at once); `fromQueue` if it had been queued. */
  emitted(wait: number, fromQueue: boolean): void;
  /** A value was dropped; `fromQueue` if it had been queued. */
  dropped(reason: DropReason, fromQueue: boolean): void;
}

/** The recorder of a QueueMetrics from any copy of the package, or undefined for anything else. */
export function recorderOf(metrics: unknown): QueueRecorder | undefined {
  if (typeof metrics !== 'object' || metrics === null) return undefined;
  const recorder = (metrics as { [RECORDER]?: unknown })[RECORDER] as QueueRecorder | undefined;
  return typeof recorder === 'object' && recorder !== null && typeof recorder.dropped === 'function'
    ? recorder
    : undefined;
}
