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
  /**
   * Not for operators: an exporter (the Prometheus histogram) starts seeing every wait > 0 ms of the values emitted
   * from now on, exactly as {@link QueueRecorder.emitted} got it (a value emitted at once, wait 0, is not passed on:
   * the exporter counts those as `dequeued` minus the waits it saw, so the fast path pays nothing for it). Returns the
   * call that stops it; stopping twice is harmless. Optional in the type so that a recorder without it (from another
   * copy of the package) still serves every operator; an exporter checks that it is there.
   */
  observe?(observer: WaitObserver): () => void;
}

/** @internal what {@link QueueRecorder.observe} feeds: one call per value emitted after waiting `ms` > 0. */
export interface WaitObserver {
  waited(ms: number): void;
}

/** The recorder of a QueueMetrics from any copy of the package, or undefined for anything else. */
export function recorderOf(metrics: unknown): QueueRecorder | undefined {
  if (typeof metrics !== 'object' || metrics === null) return undefined;
  const recorder = (metrics as { [RECORDER]?: unknown })[RECORDER] as QueueRecorder | undefined;
  return typeof recorder === 'object' && recorder !== null && typeof recorder.dropped === 'function'
    ? recorder
    : undefined;
}
