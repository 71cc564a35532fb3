/**
 * The live feed of the ws-feed example: one endless generator per stream, read with `pull()`, so each value is made
 * only when the browser has asked for it. `stats` counts what every stream produced, for the log and the test.
 */
import { pull } from 'rxjs-backpressure';
import type { Observable } from 'rxjs';

export interface Tick {
  seq: number;
  /** The server's clock when the value was made (ms since the epoch). */
  at: number;
  /** 48 characters of payload, so a frame carries about 100 bytes. */
  payload: string;
}

export interface FeedStats {
  /** Streams served so far. */
  streams: number;
  /** Values made, all streams together. */
  produced: number;
  /** Values made by the stream opened last. */
  producedLast: number;
}

export const stats: FeedStats = { streams: 0, produced: 0, producedLast: 0 };

async function* ticks(): AsyncGenerator<Tick> {
  stats.streams++;
  stats.producedLast = 0;
  for (let seq = 0; ; seq++) {
    stats.produced++;
    stats.producedLast++;
    yield { seq, at: Date.now(), payload: 'x'.repeat(48) };
  }
}

/** The route: every request gets its own endless feed, paced by the client's credit. */
export function feed(): Observable<Tick> {
  return pull(ticks());
}
