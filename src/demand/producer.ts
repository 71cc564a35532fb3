import type { Subscriber, Subscription } from 'rxjs';
import { subscribeCredits } from '../internal/credit.js';
import type { DemandInput } from '../types.js';
import { claim, createLink, emit, endWith, grant, release } from './link.js';
import type { Link } from './link.js';

/**
 * The credit side of a demand-aware producer (`pull`, `fromRedisStream`'s reader, `requestStream`), written once:
 * where its credit comes from, emitting against it, ending, letting go.
 *
 * Without `demand` the producer claims the link of the consumer below it (a drain, a queue operator, a bridge) when one
 * is on offer, and has unbounded credit when none is; with `demand` it has credit of its own, fed by that input once
 * {@link Producer.listen} subscribes it. {@link Producer.credited} runs whenever credit arrives.
 */
export abstract class Producer<T> {
  /** The credit to read before emitting: the claimed link's, or this producer's own. */
  protected readonly credit: Link;
  private readonly link: Link | undefined;
  private credits: Subscription | undefined;
  /** What the link was claimed with (tells this producer's claim from a later one). */
  private readonly wake = (): void => this.credited();

  protected constructor(
    operator: string,
    protected readonly subscriber: Subscriber<T>,
    demand: DemandInput | undefined,
  ) {
    this.link = demand === undefined ? claim(this.wake) : undefined;
    this.credit = this.link ?? createLink(operator, demand === undefined ? Infinity : 0);
    if (this.link === undefined) this.credit.wake = this.wake;
  }

  /** Credit arrived (from the consumer's link, or from `demand`). */
  protected abstract credited(): void;

  /**
   * Subscribes `demand`, if given: its credits add to this producer's; an illegal credit or its error goes to `failed`.
   */
  protected listen(operator: string, demand: DemandInput | undefined, failed: (error: unknown) => void): void {
    if (demand === undefined) return;
    const credit = this.credit;
    this.credits = subscribeCredits(operator, demand, (n) => grant(credit, n), failed);
  }

  /** Emits one value against the credit (on a link: a value swallowed on the way gives its credit back). */
  protected emit(value: T): void {
    if (this.link !== undefined) {
      emit(this.link, this.subscriber, value);
      return;
    }
    if (this.credit.credit !== Infinity) this.credit.credit--;
    this.subscriber.next(value);
  }

  /** Stops listening and sends the end (`signal`) with the link on offer, so a synchronous resubscription links. */
  protected signalEnd(signal: () => void): void {
    this.credits?.unsubscribe();
    endWith(this.link, this.wake, signal);
  }

  /** The subscriber left (or the stream ended): stops listening and releases the link. */
  protected letGo(): void {
    this.credits?.unsubscribe();
    if (this.link !== undefined) release(this.link, this.wake);
  }
}
