/**
 * Overload generator for the HTTP example: autocannon on loopback at a fixed overall rate, with a traffic mix of
 * priorities, in staggered waves.
 *
 * autocannon limits its rate per connection and per one-second window: every connection sends its share at the start
 * of each second, so one instance delivers one burst a second. Starting `waves` instances spread over a second turns
 * that into a burst every 1/waves s, which keeps a small queue busy instead of idle for half of each second.
 *
 * Every response is checked on the client side: a 503 must carry `Retry-After` with a whole number of seconds >= 1.
 */
import { createRequire } from 'node:module';
import type { Tier } from './index.js';

/** One kind of request in the mix, sent `weight` times in every round of the mix. */
export interface LoadRequest {
  path: string;
  tier: Tier;
  weight: number;
}

export interface LoadOptions {
  /** Server base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  /** Requests per second, over all connections and waves. */
  rate: number;
  /** Connections, over all waves. */
  connections: number;
  /** Length of the load in seconds. */
  seconds: number;
  /**
   * `'amount'`: send rate x seconds requests and wait for every answer; `'duration'`: send for `seconds`, then hang
   * up on whatever is still open (the only way to stop loading a server that queues without bound).
   */
  until: 'amount' | 'duration';
  mix: readonly LoadRequest[];
  /** autocannon instances started 1/waves s apart. Default 4. */
  waves?: number;
}

export interface LoadResult {
  /** Responses by status code. */
  statuses: Record<string, number>;
  responses: number;
  errors: number;
  timeouts: number;
  /** 503 responses without a valid Retry-After (a positive whole number of seconds). */
  badRetryAfter: number;
  /** Largest Retry-After seen, in seconds. */
  maxRetryAfter: number;
  elapsedMs: number;
}

/** The part of autocannon's API used here (it ships no types). */
interface AutocannonRequest {
  method: 'GET';
  setupRequest: (request: Record<string, unknown>) => Record<string, unknown>;
  onResponse: (status: number, body: string, context: unknown, headers: Record<string, string | string[]>) => void;
}
interface AutocannonResult {
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  overallRate: number;
  amount?: number;
  duration?: number;
  timeout: number;
  requests: AutocannonRequest[];
}) => PromiseLike<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Runs the load and adds up what every wave saw. */
export async function overload(options: LoadOptions): Promise<LoadResult> {
  const { url, rate, connections, seconds, until, mix } = options;
  const waves = options.waves ?? 4;
  const round = mix.flatMap((request) => Array.from({ length: request.weight }, () => request));
  let turn = 0;
  const result: LoadResult = {
    statuses: {},
    responses: 0,
    errors: 0,
    timeouts: 0,
    badRetryAfter: 0,
    maxRetryAfter: 0,
    elapsedMs: 0,
  };
  const request: AutocannonRequest = {
    method: 'GET',
    setupRequest: (base) => {
      const next = round[turn++ % round.length]!;
      return { ...base, path: next.path, headers: { 'x-priority': next.tier } };
    },
    onResponse: (status, _body, _context, headers) => {
      if (status !== 503) return;
      const name = Object.keys(headers).find((key) => key.toLowerCase() === 'retry-after');
      const value = name === undefined ? undefined : headers[name];
      const seconds = Number(Array.isArray(value) ? value[0] : value);
      if (!Number.isInteger(seconds) || seconds < 1) result.badRetryAfter++;
      else result.maxRetryAfter = Math.max(result.maxRetryAfter, seconds);
    },
  };
  const started = performance.now();
  const runs = Array.from({ length: waves }, async (_, wave) => {
    await new Promise((resolve) => setTimeout(resolve, (1000 * wave) / waves));
    const share = (total: number): number => Math.floor(total / waves) + (wave < total % waves ? 1 : 0);
    const waveRate = share(rate);
    return autocannon({
      url,
      connections: share(connections),
      overallRate: waveRate,
      ...(until === 'amount' ? { amount: Math.round(waveRate * seconds) } : { duration: seconds }),
      timeout: 10,
      requests: [request],
    });
  });
  for (const wave of await Promise.all(runs)) {
    for (const [status, { count }] of Object.entries(wave.statusCodeStats)) {
      result.statuses[status] = (result.statuses[status] ?? 0) + count;
      result.responses += count;
    }
    result.errors += wave.errors;
    result.timeouts += wave.timeouts;
  }
  result.elapsedMs = performance.now() - started;
  return result;
}
