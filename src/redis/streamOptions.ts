/** The options, entries and client shape of fromRedisStream. */
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import {
  boolean,
  fail,
  fn,
  optional,
  positiveCount,
  positiveInteger,
  scheduler as schedulerCheck,
  settings,
  withDefault,
} from '../internal/options.js';
import type { Check, Schema } from '../internal/options.js';

/** One entry of the stream, delivered to this consumer and pending in the group until `ack()`. */
export interface StreamEntry {
  /** The entry's ID (`1700000000000-0`). */
  readonly id: string;
  /** The entry's fields (a field given twice in XADD: the last value). */
  readonly fields: Record<string, string>;
  /** How many times the group has delivered it, this time included (1: first delivery; more: a claim or a replay). */
  readonly deliveries: number;
  /** Acknowledges the entry (XACK, on the caller's client): it leaves the group's pending list. Idempotent. */
  ack(): Promise<void>;
}

/** An entry delivered more than `maxDeliveries` times, handed to `onDeadLetter` instead of downstream. */
export interface DeadLetter {
  readonly id: string;
  readonly fields: Record<string, string>;
  readonly deliveries: number;
}

/** Options of {@link fromRedisStream}. */
export interface FromRedisStreamOptions {
  /** The stream's key. */
  stream: string;
  /** The consumer group. */
  group: string;
  /** This consumer's name in the group: unique among the consumers reading at once (one per process, say). */
  consumer: string;
  /**
   * ms an entry must have been pending (with any consumer, this one included) before this consumer claims it with
   * XAUTOCLAIM: longer than the longest processing of one entry. Checked at subscription and then every
   * `claimIdle / 2` ms while subscribed. Infinity: never claim. Default 30000.
   */
  claimIdle?: number;
  /** ms a read waits on the server for new entries (XREADGROUP BLOCK) before the loop turns again. Default 5000. */
  block?: number;
  /** The most entries one command asks for, whatever the credit. Default 100. */
  count?: number;
  /** Create the group (XGROUP CREATE ... MKSTREAM) when it does not exist. Default true. */
  createGroup?: boolean;
  /** Where a group created here starts: `'0'` every entry in the stream (default), `'$'` only entries added later. */
  groupStart?: string;
  /** An entry delivered more than this many times goes to `onDeadLetter`, not downstream. Default Infinity. */
  maxDeliveries?: number;
  /**
   * Told of each entry delivered more than `maxDeliveries` times (required with a finite `maxDeliveries`): copy it
   * to a dead-letter stream, log it. The entry is acknowledged once the call returns (or its promise resolves); if it
   * throws or rejects, the stream errors with that error and the entry stays pending.
   */
  onDeadLetter?: (entry: DeadLetter) => void | PromiseLike<unknown>;
  /** Where the claim timing is read (`now()`). Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/** The part of an ioredis connection the reader uses. */
export interface Connection {
  readonly status: string;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  disconnect(): void;
}

export interface Client {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  duplicate(override?: Record<string, unknown>): Connection;
}

export const NAME = 'fromRedisStream';

const nonEmptyString: Check<string> = (operator, option, value) => {
  if (typeof value !== 'string') fail(operator, option, 'a non-empty string', value, 'type');
  if (value.length === 0) fail(operator, option, 'a non-empty string', value, 'range');
  return value;
};

const OPTIONS = {
  stream: nonEmptyString,
  group: nonEmptyString,
  consumer: nonEmptyString,
  claimIdle: withDefault(positiveCount, 30_000),
  block: withDefault(positiveInteger, 5_000),
  count: withDefault(positiveInteger, 100),
  createGroup: withDefault(boolean, true),
  groupStart: withDefault(nonEmptyString, '0'),
  maxDeliveries: withDefault(positiveCount, Infinity),
  onDeadLetter: optional(fn<(entry: DeadLetter) => void | PromiseLike<unknown>>()),
  scheduler: withDefault(schedulerCheck, asyncScheduler),
} satisfies Schema<FromRedisStreamOptions>;

export type StreamSettings = ReturnType<typeof streamSettings>;

export function streamSettings(options: unknown) {
  const s = settings(NAME, OPTIONS, options);
  if (s.maxDeliveries !== Infinity && s.onDeadLetter === undefined) {
    throw new TypeError(
      `${NAME}: maxDeliveries needs onDeadLetter (an entry delivered too often must go somewhere, never lost silently)`,
    );
  }
  return s;
}
