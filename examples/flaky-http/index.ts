/**
 * A flaky HTTP dependency guarded by a circuit breaker, with a cached fallback.
 *
 * A local server on 127.0.0.1 answers normally, then fails with 500s, then hangs, then recovers. A client asks it for a
 * price every 50 ms through `circuitBreak`: while the circuit is open, requests fail fast (no connection is made) and
 * `catchError` serves the last known price instead. The breaker's state$ is printed as it changes. Runs about 4 s and
 * stops by itself.
 *
 *   npx tsx examples/flaky-http/index.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Observable, catchError, interval, lastValueFrom, map, mergeMap, of, take, tap, toArray } from 'rxjs';
import { CircuitBreaker, circuitBreak, isCallTimeoutError, isCircuitOpenError } from 'rxjs-backpressure';

const started = Date.now();
const elapsed = (): number => Date.now() - started;

/** healthy until 1 s, 500s until 2.2 s, hangs until 2.8 s, healthy after. */
function phase(): 'healthy' | 'failing' | 'hanging' {
  const t = elapsed();
  if (t < 1000) return 'healthy';
  if (t < 2200) return 'failing';
  if (t < 2800) return 'hanging';
  return 'healthy';
}

let served = 0;
const server = createServer((req, res) => {
  served++;
  const now = phase();
  if (now === 'failing') {
    res.writeHead(500).end('upstream exploded');
  } else if (now === 'hanging') {
    const timer = setTimeout(() => res.writeHead(200).end('{"price":0}'), 2000); // far past the call timeout
    req.on('close', () => clearTimeout(timer));
  } else {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ price: 100 + (served % 7) }));
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/price`;

/** One GET as an observable: unsubscribing aborts the request (so a timed-out call frees its socket). */
function getPrice(): Observable<number> {
  return new Observable<number>((subscriber) => {
    const abort = new AbortController();
    fetch(url, { signal: abort.signal })
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = (await response.json()) as { price: number };
        subscriber.next(body.price);
        subscriber.complete();
      })
      .catch((error: unknown) => subscriber.error(error));
    return () => abort.abort();
  });
}

const breaker = new CircuitBreaker({ failureThreshold: 3, callTimeout: 300, resetTimeout: 500 });
const transitions = breaker.state$.subscribe((state) =>
  console.log(`${String(elapsed()).padStart(5)} ms  circuit ${state}`),
);

let lastPrice = 0;
type Served = 'fresh' | 'fallback: circuit open' | 'fallback: timeout' | 'fallback: error';
const results = await lastValueFrom(
  interval(50).pipe(
    take(80),
    mergeMap(() =>
      getPrice().pipe(
        circuitBreak(breaker),
        tap((price) => (lastPrice = price)),
        map((): Served => 'fresh'),
        catchError((error: unknown) =>
          of<Served>(
            isCircuitOpenError(error)
              ? 'fallback: circuit open'
              : isCallTimeoutError(error)
                ? 'fallback: timeout'
                : 'fallback: error',
          ),
        ),
      ),
    ),
    toArray(),
  ),
);

transitions.unsubscribe();
server.close();
const counts = new Map<Served, number>();
for (const r of results) counts.set(r, (counts.get(r) ?? 0) + 1);
console.log(
  `\n${results.length} requests in ${elapsed()} ms; the server saw ${served} of them; last price ${lastPrice}`,
);
console.table(Object.fromEntries(counts));
console.log('saved breaker state:', JSON.stringify(breaker.toJSON()));
