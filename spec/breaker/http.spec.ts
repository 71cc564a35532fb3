/**
 * circuitBreak in front of a real HTTP server (node:http on 127.0.0.1, started here), called with `fromFetch` from
 * 'rxjs/fetch', which aborts its request when unsubscribed (issue 20 item 6):
 * - a call that runs past `callTimeout` is unsubscribed, so the server sees the request closed;
 * - with `isFailureResult`, HTTP 500 responses count as failures and open the circuit (without it they are successes,
 *   a resolved `Response` being a value), and once it is open no request reaches the server.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { catchError, firstValueFrom, lastValueFrom, of } from 'rxjs';
import { fromFetch } from 'rxjs/fetch';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import { isCallTimeoutError, isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;

async function serve(handler: Handler): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Resolves with `value` when `promise` has not settled within `ms` (the spec then fails on its expectation). */
function within<T>(promise: Promise<T>, ms: number, value: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(value), ms))]);
}

describe('circuitBreak with fromFetch against a real HTTP server', () => {
  it('a call timed out by callTimeout closes its request: the server sees it closed, unanswered', async () => {
    const events: string[] = [];
    let closed!: () => void;
    const requestClosed = new Promise<'closed'>((resolve) => (closed = () => resolve('closed')));
    const url = await serve((req, res) => {
      events.push('request');
      // never answers; tells when the client went away
      res.on('close', () => {
        events.push(res.writableFinished ? 'finished' : 'closed unanswered');
        closed();
      });
    });
    const breaker = new CircuitBreaker({ callTimeout: 200, failureThreshold: 5 });
    const outcome = await lastValueFrom(
      fromFetch(`${url}/slow`).pipe(
        circuitBreak(breaker),
        catchError((e: unknown) => {
          events.push(isCallTimeoutError(e) ? 'client: CallTimeoutError' : `client: ${String(e)}`);
          return of('timed out');
        }),
      ),
    );
    expect(outcome).toBe('timed out');
    // the abort reaches the server: it sees the request closed (waited for, with a bound so a miss fails, not hangs)
    expect(await within(requestClosed, 5000, 'still open')).toBe('closed');
    expect(events).toEqual(['request', 'client: CallTimeoutError', 'closed unanswered']);
  });

  it('with isFailureResult, HTTP 500s are failures: the circuit opens and later calls never leave', async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests++;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream exploded');
    });
    const breaker = new CircuitBreaker<Response>({
      failureThreshold: 3,
      resetTimeout: 60_000,
      isFailureResult: (response) => response.status >= 500,
    });
    const call = () => firstValueFrom(fromFetch(`${url}/price`).pipe(circuitBreak(breaker)));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await call();
      statuses.push(response.status);
      expect(await response.text()).toBe('upstream exploded'); // the failing Response is still delivered, body readable
    }
    expect(statuses).toEqual([500, 500, 500]);
    expect(breaker.state).toBe('open');
    const refused = await call().catch((e: unknown) => e);
    expect(isCircuitOpenError(refused)).toBe(true);
    expect(requests).toBe(3); // the refused call made no request
  });

  it('without isFailureResult the same 500 responses count as successes (the circuit stays closed)', async () => {
    const url = await serve((_req, res) => res.writeHead(500).end());
    const breaker = new CircuitBreaker({ failureThreshold: 3 });
    for (let i = 0; i < 5; i++) await firstValueFrom(fromFetch(`${url}/price`).pipe(circuitBreak(breaker)));
    expect(breaker.state).toBe('closed');
  });
});
