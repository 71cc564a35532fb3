import { BufferOverflowError } from '../errors.js';
import type { PriorityStore } from './PriorityStore.js';
import type { RingBuffer } from './RingBuffer.js';

/** What an overflow policy may do to the queue it makes room in. */
export interface Room<T> {
  readonly operator: string;
  readonly capacity: number;
  readonly store: RingBuffer<T> | PriorityStore<T>;
  /** The run has ended (an `onDrop` threw while a value was being evicted). */
  readonly over: boolean;
  /** The arrival is not admitted: reported `'overflow'`. */
  refuse(value: T): void;
  /** A queued value is pushed out to make room: reported `'evicted'`. */
  evict(value: T): void;
  fail(error: unknown, ...arrival: [] | [T]): void;
  /** The arrival was interrupted by the end of the run: reported by how it ended. */
  late(value: T): void;
}

/**
 * What happens to an arrival that finds the queue full; true if it may now be queued. Each policy is a function of its
 * own, so an operator bundles only the policies it offers.
 *
 * `size` is what is queued and `bound` the room: over the bound (adaptiveBuffer shrank it, or `onDrop` pushed values
 * into room just made), nothing queued is evicted, the queue only stops admitting. Room is made once per arrival.
 */
export type OverflowPolicy = <T>(room: Room<T>, value: T, rank: number, size: number, bound: number) => boolean;

/** bufferBounded: the stream errors with BufferOverflowError; the arrival and all queued are reported 'error'. */
export const errorWhenFull: OverflowPolicy = (room, value, _rank, size) => {
  const { operator, capacity } = room;
  room.fail(
    new BufferOverflowError(
      `${operator}: buffer overflow, ${size} values already queued (capacity ${capacity})`,
      capacity,
    ),
    value,
  );
  return false;
};

/** The arrival is rejected ('overflow'). */
export const dropIncoming: OverflowPolicy = (room, value) => {
  room.refuse(value);
  return false;
};

/** A policy that evicts queued values to admit the arrival. */
function evicting(evict: <T>(room: Room<T>) => void): OverflowPolicy {
  return (room, value, _rank, size, bound) => {
    if (size > bound) return dropIncoming(room, value, 0, size, bound);
    evict(room);
    if (!room.over) return true;
    // onDrop threw on an evicted value and errored the stream: the arrival was never queued, so it is dropped too.
    room.late(value);
    return false;
  };
}

/** The head is evicted, the arrival queued. */
export const dropOldest = evicting((room) => room.evict(room.store.shift()));
/** The most recently queued value is evicted, the arrival queued. */
export const dropNewest = evicting((room) => room.evict(room.store.pop()));
/** Everything queued is evicted, the arrival queued. */
export const dropBuffer = evicting((room) => {
  while (room.store.size > 0 && !room.over) room.evict(room.store.shift());
});

/** shedByPriority: the oldest value of the lowest priority strictly below the arrival's is evicted, or it's refused. */
export const evictLowerPriority: OverflowPolicy = (room, value, rank, size, bound) => {
  const store = room.store as PriorityStore<never>;
  const lowest = store.lowest();
  if (size > bound || lowest === undefined || lowest >= rank) return dropIncoming(room, value, rank, size, bound);
  room.evict(store.shiftLowest());
  if (!room.over) return true;
  room.late(value);
  return false;
};

/** The lossy policies by option name (dropOnFull, adaptiveBuffer, BoundedSubject). */
export const DROP_POLICIES: Record<'drop-incoming' | 'drop-oldest' | 'drop-newest' | 'drop-buffer', OverflowPolicy> = {
  'drop-incoming': dropIncoming,
  'drop-oldest': dropOldest,
  'drop-newest': dropNewest,
  'drop-buffer': dropBuffer,
};
