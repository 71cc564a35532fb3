/**
 * `rxjs-backpressure/testing`: what the library's own specs use to test operators with marble diagrams and
 * properties, for your own pipelines. rxjs/testing is its only dependency; `checkLaws` also needs fast-check (an
 * optional peer dependency, loaded only when `checkLaws` runs).
 */
export { checkLaws } from './laws.js';
export type { CheckLawsOptions, LawContext } from './laws.js';
export { BREAKER_STATES, CREDITS, dropLane, toMarbles } from './marbles.js';
export type { DropLane, TestMessage, ToMarblesOptions } from './marbles.js';
