import { adaptiveBufferCases } from './adaptiveBuffer.cases.js';
import { bufferBoundedCases } from './bufferBounded.cases.js';
import { circuitBreakCases } from './circuitBreak.cases.js';
import { drainCases } from './drain.cases.js';
import { dropOnFullCases } from './dropOnFull.cases.js';
import { latestPerFrameCases } from './latestPerFrame.cases.js';
import { pullCases } from './pull.cases.js';
import { shedByPriorityCases } from './shedByPriority.cases.js';
import { throttleTokenBucketCases } from './throttleTokenBucket.cases.js';
import type { MarbleCase } from './types.js';

export type { CaseHelpers, MarbleCase } from './types.js';

/** Every canonical marble case, in the order the docs present them. */
export const MARBLE_CASES: readonly MarbleCase[] = [
  ...pullCases,
  ...drainCases,
  ...bufferBoundedCases,
  ...dropOnFullCases,
  ...shedByPriorityCases,
  ...throttleTokenBucketCases,
  ...latestPerFrameCases,
  ...circuitBreakCases,
  ...adaptiveBufferCases,
];
