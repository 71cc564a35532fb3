export { CircuitBreaker } from './breaker/CircuitBreaker.js';
export { BoundedSubject } from './bridges/BoundedSubject.js';
export type { BoundedSubjectOptions, BoundedSubjectOverflow, OfferResult } from './bridges/BoundedSubject.js';
export type { BridgeOptions, BridgeOverflow } from './bridges/options.js';
export { toAsyncIterable } from './bridges/toAsyncIterable.js';
export { toReadableStream } from './bridges/toReadableStream.js';
export { writeTo } from './bridges/writeTo.js';
export type { WritableLike, WriteToOptions } from './bridges/writeTo.js';
export type {
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  CircuitState,
  SlidingWindow,
  WindowSnapshot,
} from './breaker/CircuitBreaker.js';
export { Demand } from './demand/Demand.js';
export { drain } from './demand/drain.js';
export type { DrainOptions } from './demand/drain.js';
export { pull } from './demand/pull.js';
export {
  BackpressureError,
  BufferOverflowError,
  CallTimeoutError,
  CircuitOpenError,
  ProtocolError,
  RateLimitExceededError,
  isBackpressureError,
  isBufferOverflowError,
  isCallTimeoutError,
  isCircuitOpenError,
  isProtocolError,
  isRateLimitExceededError,
} from './errors.js';
export type { ProtocolViolation } from './errors.js';
export { adaptiveConcurrency } from './limit/adaptiveConcurrency.js';
export type { AdaptiveConcurrencyOptions, LimitAlgorithm } from './limit/adaptiveConcurrency.js';
export type { ConcurrencyLimiter } from './limit/port.js';
export { retryBudget } from './limit/retryBudget.js';
export type { RetryBudget, RetryBudgetOptions } from './limit/retryBudget.js';
export { QueueMetrics } from './metrics/QueueMetrics.js';
export type { QueueMetricsOptions, QueueMetricsSnapshot } from './metrics/QueueMetrics.js';
export type { QueueAlert, QueueAlertKind, QueueAlertState, QueueAlertThresholds } from './metrics/alerts.js';
export { adaptiveBuffer } from './operators/adaptiveBuffer.js';
export type { AdaptiveBufferOptions, AdaptiveOverflow } from './operators/adaptiveBuffer.js';
export { bufferBounded } from './operators/bufferBounded.js';
export type { BufferBoundedOptions } from './operators/bufferBounded.js';
export { circuitBreak } from './operators/circuitBreak.js';
export { dropOnFull } from './operators/dropOnFull.js';
export type { DropOnFullOptions, DropOverflow } from './operators/dropOnFull.js';
export { latestPerFrame } from './operators/latestPerFrame.js';
export type { LatestPerFrameOptions } from './operators/latestPerFrame.js';
export { retryAfter } from './operators/retryAfter.js';
export type { RetryAfterAttempt, RetryAfterOptions } from './operators/retryAfter.js';
export { shedByPriority } from './operators/shedByPriority.js';
export type { ShedByPriorityOptions } from './operators/shedByPriority.js';
export { throttleTokenBucket } from './operators/throttleTokenBucket.js';
export type { ThrottleMode, ThrottleTokenBucketOptions } from './operators/throttleTokenBucket.js';
export type { QueueOptions } from './queue/options.js';
export type { TokenBucketStore, TokenGrant, TokenRequest } from './rate/protocol.js';
export { memoryTokenBucketStore, tokenBucketStore } from './rate/store.js';
export { DROP_REASONS } from './types.js';
export type { DemandInput, DropHandler, DropReason, Dropped } from './types.js';
