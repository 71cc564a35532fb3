import { asyncScheduler } from 'rxjs';
import type { Subscriber } from 'rxjs';
import { addCredit } from '../internal/credit.js';

/**
 * The link: how a consumer's credit reaches a producer through an ordinary `pipe()` chain.
 *
 * A consumer (a drain, a queue operator taking values from upstream, a bridge) makes a link and *offers* it while it
 * subscribes to its source. rxjs operators subscribe to their source synchronously inside their own subscribe, so
 * the nearest demand-aware producer upstream (a `pull()`, a queue operator without a `demand` option, ...) finds the
 * link on top of the context stack when it is subscribed, and *claims* it. From then on the producer emits only while
 * `link.credit > 0`, through {@link emit}:
 *
 * - the producer spends one credit and marks the value *pending*; the consumer clears the mark when the value reaches
 *   it ({@link accept} / {@link arrive});
 * - a value still pending when `next` returns was swallowed on the way (`filter`, `take`, `skip`, a drop of a library
 *   operator): its credit goes back to the link at once, so the producer goes on and the pipeline never stalls;
 * - a second value reaching the consumer within one emission came from an operator that emits several values for one
 *   (`mergeMap(x => of(x, x))`); a value reaching it outside any emission of a claimed link came late (`delay`,
 *   `observeOn`, `debounceTime`) or from another source (`merge`): a drain errors on both, naming the cause.
 *
 * A producer that ends (completes, errors, is unsubscribed) releases its claim, and offers the link again while it
 * sends `complete` / `error`, so an operator that resubscribes right then (`repeat`, `retry`, `concat`) links the new
 * subscription too. Each consumer subscription makes a new link, so `retry` after a drain and a second subscriber
 * start fresh.
 *
 * The stack lives on `globalThis` under a registered symbol and the link is a plain object, so two copies of this
 * package (ESM and CommonJS, two installs) link to each other. Version 1 of the protocol: the fields of {@link Link}.
 */
export interface Link {
  /** Protocol version. */
  readonly v: 1;
  /** What made the link, for messages: `'drain'`, `'dropOnFull'`, ... */
  readonly consumer: string;
  /** Credit granted and not yet spent by the producer; Infinity for unbounded. */
  credit: number;
  /** A producer holds the link. */
  claimed: boolean;
  /** The producer is inside an emission. */
  emitting: boolean;
  /** The value of the current emission has not reached the consumer yet. */
  pending: boolean;
  /** A producer held the link and has ended (values reaching the consumer now are late). */
  released: boolean;
  /** The producer that held it is signalling its end (values emitted meanwhile, e.g. by `toArray`, are welcome). */
  ending: boolean;
  /** Called after credit is granted, so a producer that was waiting for it goes on. */
  wake: (() => void) | undefined;
  /**
   * Producer side, optional (a link made by an older copy lacks them): emissions swallowed in a row since the last one
   * that reached the consumer or the last pause, and credits of swallowed emissions held back until the pause ends.
   */
  swallowed?: number;
  held?: number;
}

/**
 * Swallowed emissions in a row after which their credit comes back only after a pause of one millisecond (one frame
 * in virtual time): an operator that keeps values to send them later (`delay`, `observeOn`) swallows every emission
 * too, and without the pause a synchronous producer would read its whole input (forever, if it never ends) before the
 * first delayed value could reach the consumer and make it name the operator. `filter` goes on, this many per pause.
 */
export const SWALLOWED_IN_A_ROW = 4096;

const CONTEXT = Symbol.for('rxjs-backpressure.link-context.v1');

/** The innermost link on offer (shared by every copy of the package). */
interface Context {
  current: Link | undefined;
}

function sharedContext(): Context {
  const holder = globalThis as unknown as Record<symbol, Context | undefined>;
  return (holder[CONTEXT] ??= { current: undefined });
}

const context = sharedContext();

export function createLink(consumer: string, credit = 0): Link {
  return {
    v: 1,
    consumer,
    credit,
    claimed: false,
    emitting: false,
    pending: false,
    released: false,
    ending: false,
    wake: undefined,
    swallowed: 0, // set here, so emit's write every emission keeps one object shape
    held: 0,
  };
}

/**
 * Runs `subscribe` with `link` on offer to the producers it subscribes. `undefined` offers nothing: an operator that
 * takes its credit elsewhere hides the links of consumers below it.
 */
export function offer<R>(link: Link | undefined, subscribe: () => R): R {
  const outer = context.current;
  context.current = link;
  try {
    return subscribe();
  } finally {
    context.current = outer;
  }
}

/**
 * For a producer being subscribed: the link on offer, if one is and nobody holds it. A link is on offer while its
 * consumer subscribes, while its producer emits (so an operator that resubscribes inside an emission, like `retry`
 * after an inner error, links the new subscription once the old one is gone) and while its producer signals its end.
 */
export function claim(wake: () => void): Link | undefined {
  const link = context.current;
  if (link === undefined || link.claimed || link.v !== 1) return undefined;
  link.claimed = true;
  link.released = false;
  link.wake = wake;
  return link;
}

/** The link on offer right now, unclaimed, without claiming it (an operator that subscribes again later carries it). */
export function onOffer(): Link | undefined {
  const link = context.current;
  return link === undefined || link.claimed ? undefined : link;
}

/**
 * The producer holding `link` (known by the `wake` it claimed with) has ended; the link may be claimed again. A link
 * already claimed anew (a resubscription while the end was signalled) is left to its new producer.
 */
export function release(link: Link, wake: () => void): void {
  if (link.wake !== wake) return;
  link.claimed = false;
  link.released = true;
  link.wake = undefined;
  // A value in transit is not forgotten: an operator may unsubscribe its source and then forward the value (rxjs 8's
  // take), and if it never arrives its emission gives the credit back when it returns.
}

/** Sends `complete` / `error` with the released link on offer, so a synchronous resubscription links again. */
export function endWith(link: Link | undefined, wake: () => void, end: () => void): void {
  if (link === undefined || link.wake !== wake) {
    end();
    return;
  }
  release(link, wake);
  const outer = link.ending;
  link.ending = true;
  try {
    offer(link, end);
  } finally {
    link.ending = outer;
  }
}

/** Consumer side: more credit for the producer. */
export function grant(link: Link, n: number): void {
  link.credit = addCredit(link.credit, n);
  link.wake?.();
}

/**
 * Producer side: emits one value against the link's credit. A value that does not reach the consumer before `next`
 * returns gives its credit back.
 */
export function emit<T>(link: Link, destination: Subscriber<T>, value: T): void {
  if (link.credit !== Infinity) link.credit--;
  // Emissions nest when a resubscription inside one emits (retry after an inner error): each has its own pending
  // mark, saved and restored around it, so a value arriving pays the innermost one.
  const outerEmitting = link.emitting;
  const outerPending = link.pending;
  const offered = context.current;
  link.emitting = true;
  link.pending = true;
  context.current = link;
  try {
    destination.next(value);
  } finally {
    context.current = offered;
    const swallowed = link.pending;
    link.pending = outerPending;
    link.emitting = outerEmitting;
    if (!swallowed) link.swallowed = 0;
    else if (link.credit !== Infinity) {
      link.swallowed = (link.swallowed ?? 0) + 1;
      if (link.swallowed <= SWALLOWED_IN_A_ROW) {
        link.credit++;
        // the producer that holds the link now may be another one (resubscribed during this emission), waiting
        link.wake?.();
      } else holdBack(link);
    }
  }
}

/** Gives the credit of a swallowed emission back after the pause (see {@link SWALLOWED_IN_A_ROW}). */
function holdBack(link: Link): void {
  link.held = (link.held ?? 0) + 1;
  if (link.held > 1) return;
  asyncScheduler.schedule(() => {
    const held = link.held ?? 0;
    link.held = 0;
    link.swallowed = 0;
    link.credit = addCredit(link.credit, held);
    link.wake?.();
  }, 1);
}

/**
 * What a value reaching a strict consumer (a drain) is: `PAID` the value of the producer's current emission;
 * `UNLINKED` no producer holds the link (none ever did, or the one that did is signalling its end or has ended) and
 * credit was outstanding (the value took one); `EXTRA` a second value within one emission; `LATE` a value outside any
 * emission of the producer holding the link, or after it ended with no credit outstanding; `ENDED` a value sent while
 * the producer signals its end, with no credit outstanding (an operator that adds values at the end: `endWith`,
 * `concatWith`, `defaultIfEmpty`, `repeat` into a source that does not obey demand); `UNREQUESTED` no producer holds
 * the link and no credit was outstanding.
 */
export type Arrival = 0 | 1 | 2 | 3 | 4 | 5;
export const PAID = 0;
export const UNLINKED = 1;
export const EXTRA = 2;
export const LATE = 3;
export const UNREQUESTED = 4;
export const ENDED = 5;

/** Consumer side, strict: classifies an arriving value and spends its credit when it is paid for. */
export function accept(link: Link): Arrival {
  if (link.pending) {
    link.pending = false;
    return PAID;
  }
  if (link.emitting) return EXTRA;
  if (link.claimed) return LATE;
  // No producer holds the link. A value within the credit still outstanding is welcome whatever sent it, even after
  // the producer ended (an `endWith` value: rxjs 7 sends it once the producer's end has been signalled, rxjs 8 while
  // it is); the consumer never gets more than it asked for.
  if (link.credit > 0) {
    if (link.credit !== Infinity) link.credit--;
    return UNLINKED;
  }
  if (link.released) return link.ending ? ENDED : LATE;
  return UNREQUESTED;
}

/**
 * Consumer side, lenient (a queue: any arrival is welcome, its policy bounds it): a value of the producer's emission
 * is paid for; any other takes a credit if one is outstanding, so requested-but-not-arrived plus held stays within
 * what the consumer granted.
 */
export function arrive(link: Link): void {
  if (link.pending) link.pending = false;
  else if (link.credit > 0 && link.credit !== Infinity) link.credit--;
}
