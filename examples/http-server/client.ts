/**
 * The client side of the HTTP example: requests that honour the server's `503 Service Unavailable` + `Retry-After`
 * with `retryAfter`, instead of hammering an overloaded server or giving up at the first 503.
 *
 *   npm run example:http -- --port 3000 --workers 1 --capacity 2      (in one terminal)
 *   npx tsx examples/http-server/client.ts --url http://127.0.0.1:3000 --requests 20 --ms 200
 *
 * Each request is `fetch` wrapped in an Observable (aborted on unsubscribe), then `retryAfter`: on 503 it waits the
 * seconds the server asked for (at most `maxDelay`, plus up to 20% jitter so the clients told "1 s" do not all come
 * back in the same millisecond), up to `maxAttempts` attempts, and then gives up with a `RateLimitExceededError`.
 * The body of a 503 is cancelled before waiting so the connection is free for the next attempt.
 */
import { pathToFileURL } from 'node:url';
import { Observable, catchError, lastValueFrom, mergeMap, of, range, toArray } from 'rxjs';
import { isRateLimitExceededError, retryAfter } from 'rxjs-backpressure';
import type { RetryAfterAttempt } from 'rxjs-backpressure';

/** One `fetch`, as a cold Observable: each subscription is one request; unsubscribing before the answer aborts it. */
export function fetch$(url: string, init: RequestInit = {}): Observable<Response> {
  return new Observable<Response>((subscriber) => {
    const abort = new AbortController();
    let answered = false;
    fetch(url, { ...init, signal: abort.signal }).then(
      (response) => {
        answered = true; // from here the body belongs to the subscriber: completing must not abort it
        subscriber.next(response);
        subscriber.complete();
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      if (!answered) abort.abort();
    };
  });
}

export interface JobClientOptions {
  /** ms of work per job. Default 50. */
  ms?: number;
  /** Attempts per job, the first included. Default 5. */
  maxAttempts?: number;
  /** Longest wait between attempts, ms. Default 5000. */
  maxDelay?: number;
  /** Told of every 503 before the wait. */
  onRetry?: (retry: RetryAfterAttempt) => void;
}

/** How one job ended: its status, or 'gave up' after maxAttempts 503s. */
export type JobOutcome = { kind: 'answered'; status: number } | { kind: 'gave up'; retryAfter: number };

/** One `/job` request that honours 503 + Retry-After. */
export function job$(baseUrl: string, options: JobClientOptions = {}): Observable<JobOutcome> {
  const { ms = 50, maxAttempts = 5, maxDelay = 5000, onRetry } = options;
  return fetch$(`${baseUrl}/job?ms=${ms}`).pipe(
    retryAfter({
      maxAttempts,
      maxDelay,
      jitter: 0.2,
      onRetry: (retry) => {
        void (retry.response as Response).body?.cancel();
        onRetry?.(retry);
      },
    }),
    mergeMap(async (response): Promise<JobOutcome> => {
      await response.arrayBuffer();
      return { kind: 'answered', status: response.status };
    }),
    catchError((error: unknown) =>
      isRateLimitExceededError(error)
        ? of<JobOutcome>({ kind: 'gave up', retryAfter: error.retryAfter })
        : of<JobOutcome>({ kind: 'answered', status: -1 }),
    ),
  );
}

/** `requests` jobs at once; resolves with every outcome. */
export function burst(baseUrl: string, requests: number, options: JobClientOptions = {}): Promise<JobOutcome[]> {
  return lastValueFrom(
    range(0, requests).pipe(
      mergeMap(() => job$(baseUrl, options)),
      toArray(),
    ),
  );
}

async function main(): Promise<void> {
  const args = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ''), argv[i + 1] ?? '');
  const url = args.get('url') ?? 'http://127.0.0.1:3000';
  const requests = Number(args.get('requests') ?? 20);
  let retries = 0;
  const outcomes = await burst(url, requests, {
    ms: Number(args.get('ms') ?? 200),
    onRetry: ({ attempt, delay }) => {
      retries++;
      console.log(`503 on attempt ${attempt}: waiting ${Math.round(delay)} ms`);
    },
  });
  const summary = outcomes.map((o) => (o.kind === 'answered' ? String(o.status) : 'gave up'));
  const counts = new Map<string, number>();
  for (const s of summary) counts.set(s, (counts.get(s) ?? 0) + 1);
  console.log(`${requests} jobs, ${retries} retries after 503:`, Object.fromEntries(counts));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
