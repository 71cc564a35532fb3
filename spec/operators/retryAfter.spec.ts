import { Observable, catchError, defer, map, mergeMap, of, take } from 'rxjs';
import { AjaxError, AjaxResponse } from 'rxjs/ajax';
import type { AjaxRequest } from 'rxjs/ajax';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import { isCircuitOpenError, isRateLimitExceededError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';
import { parseRetryAfter, retryAfter } from '../../src/operators/retryAfter.js';
import type { RetryAfterAttempt, RetryAfterOptions } from '../../src/operators/retryAfter.js';
import { accept, claim, createLink, emit, grant, offer, release } from '../../src/demand/link.js';
import { drain, pull } from '../../src/index.js';
import type { Link } from '../../src/demand/link.js';
import { testScheduler } from '../helpers/marbles.js';

/** A fetch-like Response: status and a Headers object. */
interface FakeResponse {
  status: number;
  headers: Headers;
  label: string;
}

function response(status: number, retry?: string, label = String(status)): FakeResponse {
  return { status, headers: new Headers(retry === undefined ? {} : { 'Retry-After': retry }), label };
}

const ok = response(200, undefined, 'ok');
const busy = (retry?: string): FakeResponse => response(503, retry);

/** Values drawn as their label; a give-up as `gave up <retryAfter>`; other errors as their name. */
const shown = <T extends { label: string }>(source: Observable<T>): Observable<string> =>
  source.pipe(
    map((r) => r.label),
    catchError((e: unknown) => of(isRateLimitExceededError(e) ? `gave up ${e.retryAfter}` : `${(e as Error).name}`)),
  );

const noJitter: RetryAfterOptions = { jitter: 0 };

describe('retryAfter', () => {
  describe('Retry-After forms', () => {
    it('waits the delta-seconds of a 503, then subscribes again', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const first = cold('  s|', { s: busy('2') });
        const second = cold('r|', { r: ok });
        let attempt = 0;
        const request = new Observable<FakeResponse>((s) => (attempt++ === 0 ? first : second).subscribe(s));
        expectObservable(shown(request.pipe(retryAfter(noJitter)))).toBe('2000ms o|', { o: 'ok' });
        expectSubscriptions(first.subscriptions).toBe('(^!)');
        expectSubscriptions(second.subscriptions).toBe('2000ms ^!');
      });
    });

    it('waits until an HTTP-date, measured against scheduler.now()', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        // 1970-01-01T00:00:03Z is virtual time 3000; asked at frame 5, the wait is 2995 ms.
        const first = cold('  -----s|', { s: busy('Thu, 01 Jan 1970 00:00:03 GMT') });
        const second = cold('r|', { r: ok });
        let attempt = 0;
        const request = new Observable<FakeResponse>((s) => (attempt++ === 0 ? first : second).subscribe(s));
        expectObservable(shown(request.pipe(retryAfter(noJitter)))).toBe('3000ms o|', { o: 'ok' });
        expectSubscriptions(first.subscriptions).toBe('^----!');
        expectSubscriptions(second.subscriptions).toBe('3000ms ^!');
      });
    });

    it('retries at once for an HTTP-date in the past', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [busy('Thu, 01 Jan 1970 00:00:00 GMT'), ok];
        const request = cold('--a|', { a: 0 }).pipe(map(() => answers.shift()!));
        expectObservable(shown(request.pipe(retryAfter(noJitter)))).toBe('----o|', { o: 'ok' });
      });
    });

    it('uses defaultDelay when the header is missing or unreadable, and treats 429 like 503', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [response(429), busy('soon'), busy('1.5'), ok];
        const request = cold('a|', { a: 0 }).pipe(map(() => answers.shift()!));
        expectObservable(shown(request.pipe(retryAfter({ jitter: 0, defaultDelay: 10, maxAttempts: 4 })))).toBe(
          '30ms o|',
          { o: 'ok' },
        );
      });
    });

    it('parses both forms (and nothing else)', () => {
      expect(parseRetryAfter(' 120 ', 0)).toBe(120_000);
      expect(parseRetryAfter('0', 5)).toBe(0);
      expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 27, 30))).toBe(30_000);
      expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2016, 0, 1))).toBe(0);
      expect(parseRetryAfter('-1', 0)).toBeUndefined();
      expect(parseRetryAfter('1.5', 0)).toBeUndefined();
      expect(parseRetryAfter('later', 0)).toBeUndefined();
      expect(parseRetryAfter('', 0)).toBeUndefined();
    });
  });

  describe('the cap, jitter and giving up', () => {
    it('caps a long Retry-After at maxDelay', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [busy('3600'), ok];
        const request = cold('a|', { a: 0 }).pipe(map(() => answers.shift()!));
        expectObservable(shown(request.pipe(retryAfter({ jitter: 0, maxDelay: 50 })))).toBe('50ms o|', { o: 'ok' });
      });
    });

    it('adds jitter x random() x the capped delay, one random number per wait', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [busy('2'), busy('3600'), ok];
        const draws = [0.5, 0.25];
        const request = cold('a|', { a: 0 }).pipe(map(() => answers.shift()!));
        const options: RetryAfterOptions = { jitter: 0.2, maxDelay: 10_000, random: () => draws.shift()! };
        // 2000 + 0.2 * 0.5 * 2000 = 2200; then min(3600000, 10000) + 0.2 * 0.25 * 10000 = 10500
        expectObservable(shown(request.pipe(retryAfter(options)))).toBe('12700ms o|', { o: 'ok' });
      });
    });

    it('tells onRetry the attempt, status, requested and actual delay', () => {
      const retries: Omit<RetryAfterAttempt, 'response'>[] = [];
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [busy('2'), response(429, '3600'), ok];
        const draws = [0.5, 0.25];
        const request = cold('a|', { a: 0 }).pipe(map(() => answers.shift()!));
        const options: RetryAfterOptions = {
          jitter: 0.2,
          maxDelay: 10_000,
          random: () => draws.shift()!,
          onRetry: ({ attempt, status, requested, delay }) => retries.push({ attempt, status, requested, delay }),
        };
        expectObservable(shown(request.pipe(retryAfter(options)))).toBe('12700ms o|', { o: 'ok' });
      });
      expect(retries).toEqual([
        { attempt: 1, status: 503, requested: 2000, delay: 2200 },
        { attempt: 2, status: 429, requested: 3_600_000, delay: 10_500 },
      ]);
    });

    it('gives up after maxAttempts with a RateLimitExceededError carrying the last answer', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const request = cold('s|', { s: busy('1') });
        expectObservable(shown(request.pipe(retryAfter({ jitter: 0, maxAttempts: 3 })))).toBe('2000ms (g|)', {
          g: 'gave up 1000',
        });
        expectSubscriptions(request.subscriptions).toBe(['(^!)', '1000ms (^!)', '2000ms (^!)']);
      });
      let caught: unknown;
      const last = busy('7');
      of(last)
        .pipe(retryAfter({ maxAttempts: 1 }))
        .subscribe({ error: (e: unknown) => (caught = e) });
      expect(isRateLimitExceededError(caught)).toBe(true);
      expect((caught as Error).message).toBe(
        'retryAfter: gave up after 1 attempt: the server answered 503 (retry after 7000 ms)',
      );
      expect((caught as Error).cause).toBe(last);
    });
  });

  describe('response shapes', () => {
    const xhr = (status: number, retry: string) =>
      ({
        status,
        responseType: 'json',
        response: null,
        responseURL: '/x',
        getResponseHeader: (name: string) => (name.toLowerCase() === 'retry-after' ? retry : null),
        getAllResponseHeaders: () => `retry-after: ${retry}\r\ncontent-type: application/json`,
      }) as unknown as XMLHttpRequest;
    const request = { url: '/x', method: 'GET' } as AjaxRequest;

    it('retries an rxjs AjaxError 503 (an error) and passes the AjaxResponse 200 through', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const failed = cold<AjaxResponse<unknown>>(
          '  --#',
          undefined,
          new AjaxError('ajax error 503', xhr(503, '1'), request),
        );
        const answered = cold('--r|', { r: new AjaxResponse({} as ProgressEvent, xhr(200, '0'), request) });
        let attempt = 0;
        const source = new Observable<AjaxResponse<unknown>>((s) => (attempt++ === 0 ? failed : answered).subscribe(s));
        const result = source.pipe(
          retryAfter(noJitter),
          map((r) => r.status),
        );
        expectObservable(result).toBe('1002ms --s|', { s: 200 });
        expectSubscriptions(failed.subscriptions).toBe('^-!');
        expectSubscriptions(answered.subscriptions).toBe('1002ms ^--!');
      });
    });

    it('reads an AjaxResponse 429 (a value) by its responseHeaders', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [new AjaxResponse({} as ProgressEvent, xhr(429, '4'), request), ok];
        const source = cold('a|', { a: 0 }).pipe(map(() => answers.shift()!));
        expectObservable(
          source.pipe(
            retryAfter(noJitter),
            map((r) => r.status),
          ),
        ).toBe('4000ms s|', { s: 200 });
      });
    });

    it('reads a Node IncomingMessage by statusCode and lower-case headers', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [
          { statusCode: 503, headers: { 'retry-after': '3' } },
          { statusCode: 200, headers: {} },
        ];
        const source = cold('a|', { a: 0 }).pipe(map(() => answers.shift()!));
        expectObservable(
          source.pipe(
            retryAfter(noJitter),
            map((r) => r.statusCode),
          ),
        ).toBe('3000ms s|', { s: 200 });
      });
    });

    it('takes status and header functions for other shapes, and other statuses', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const answers = [{ code: 'SLOW', wait: '2' }, { code: 'OK' }];
        const source = cold('a|', { a: 0 }).pipe(map(() => answers.shift()!));
        const result = source.pipe(
          retryAfter({
            jitter: 0,
            statuses: [420],
            status: (r) => ((r as { code: string }).code === 'SLOW' ? 420 : 200),
            header: (r, name) => (name === 'Retry-After' ? (r as { wait?: string }).wait : undefined),
          }),
          map((r) => r.code),
        );
        expectObservable(result).toBe('2000ms s|', { s: 'OK' });
      });
    });

    it('passes other statuses and errors without a status straight through', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(
          '-a-b-#',
          { a: response(500, '1', 'e'), b: response(404, undefined, 'n') },
          new Error('down'),
        );
        expectObservable(shown(source.pipe(retryAfter()))).toBe('-a-b-(x|)', { a: 'e', b: 'n', x: 'Error' });
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
    });
  });

  describe('composition with circuitBreak', () => {
    it('after retryAfter: one call per retried request, a give-up is one failure that opens the circuit', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10_000 });
        const request = cold('s|', { s: busy('1') });
        const guarded = request.pipe(retryAfter({ jitter: 0, maxAttempts: 2 }), circuitBreak(breaker));
        const triggers = hot('a 2999ms b');
        const result = triggers.pipe(mergeMap(() => shown(guarded)));
        expectObservable(result).toBe('1000ms g 1999ms o', { g: 'gave up 1000', o: 'CircuitOpenError' });
        expectSubscriptions(request.subscriptions).toBe(['(^!)', '1000ms (^!)']);
      });
    });

    it('before retryAfter: every attempt is a call; once open, CircuitOpenError passes through at once', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 60_000 });
        const xhr503 = {
          status: 503,
          responseType: 'json',
          response: null,
          getResponseHeader: () => '1',
          getAllResponseHeaders: () => 'retry-after: 1',
        } as unknown as XMLHttpRequest;
        const request = cold('#', undefined, new AjaxError('503', xhr503, { url: '/' } as AjaxRequest));
        const result = request.pipe(circuitBreak(breaker), retryAfter({ jitter: 0, maxAttempts: 5 }));
        const caught: unknown[] = [];
        expectObservable(
          result.pipe(
            catchError((e: unknown) => {
              caught.push(e);
              return of(isCircuitOpenError(e) ? 'open' : 'other');
            }),
          ),
        ).toBe('2000ms (x|)', { x: 'open' });
        expectSubscriptions(request.subscriptions).toBe(['(^!)', '1000ms (^!)']);
      });
    });
  });

  describe('the credit link', () => {
    /**
     * A demand-aware producer as the link protocol defines one: it claims the link on offer when subscribed and emits
     * `answers` one per credit. `links` records the link each subscription claimed (undefined: none on offer).
     */
    function linkedProducer(answers: () => FakeResponse[], links: Array<Link | undefined>) {
      return new Observable<FakeResponse>((subscriber) => {
        const queue = answers();
        const wake = (): void => {
          while (link !== undefined && link.credit > 0 && queue.length > 0 && !subscriber.closed) {
            emit(link, subscriber, queue.shift()!);
          }
        };
        const link = claim(wake);
        links.push(link);
        if (link === undefined) queue.splice(0).forEach((r) => subscriber.next(r));
        else wake();
        return () => link && release(link, wake);
      });
    }

    it('carries the consumer link to every attempt, so a demand-aware producer is paced on the retry too', () => {
      testScheduler().run(({ flush }) => {
        const links: Array<Link | undefined> = [];
        let attempt = 0;
        const producer = linkedProducer(() => (attempt++ === 0 ? [busy('1'), ok] : [ok, ok, ok]), links);
        const consumer = createLink('test');
        const seen: string[] = [];
        offer(consumer, () =>
          producer.pipe(retryAfter(noJitter)).subscribe((r) => {
            accept(consumer);
            seen.push(r.label);
          }),
        );
        grant(consumer, 1);
        flush(); // the retry after 1 s
        // both attempts claimed the consumer's link; the second sent one answer for the one credit outstanding
        expect(links).toEqual([consumer, consumer]);
        expect(seen).toEqual(['ok']);
        grant(consumer, 1);
        expect(seen).toEqual(['ok', 'ok']);
      });
    });

    it('through the real drain: a pull() retried after a 503 stays paced by the drain (no unrequested value)', () => {
      testScheduler().run(({ flush }) => {
        let attempt = 0;
        function* answers(): Generator<FakeResponse> {
          if (++attempt === 1) yield busy('1');
          for (let i = 0; i < 5; i++) yield response(200, undefined, `ok${i}`);
        }
        const seen: string[] = [];
        const errors: unknown[] = [];
        defer(() => pull(answers()))
          .pipe(
            retryAfter(noJitter),
            drain((r) => of(r.label), { concurrency: 1 }),
          )
          .subscribe({ next: (v) => seen.push(v), error: (e) => errors.push(e) });
        flush();
        expect(errors).toEqual([]);
        // unlinked, the second attempt's pull() would read ahead and the drain would error on a value it never asked for
        expect(seen).toEqual(['ok0', 'ok1', 'ok2', 'ok3', 'ok4']);
      });
    });
  });

  describe('plumbing', () => {
    it('never, empty, one and many values, upstream error', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const never = cold('-');
        expectObservable(never.pipe(retryAfter()), '---!').toBe('-');
        expectSubscriptions(never.subscriptions).toBe('^--!');
        expectObservable(cold('|').pipe(retryAfter())).toBe('|');
        expectObservable(cold('-a|').pipe(retryAfter())).toBe('-a|');
        const many = cold('-a-b-c|');
        expectObservable(many.pipe(retryAfter())).toBe('-a-b-c|');
        expectSubscriptions(many.subscriptions).toBe('^-----!');
        expectObservable(cold('-a#').pipe(retryAfter())).toBe('-a#');
      });
    });

    it('unsubscribing while waiting cancels the next attempt', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const request = cold('s|', { s: busy('1') });
        expectObservable(shown(request.pipe(retryAfter(noJitter))), '500ms !').toBe('-');
        expectSubscriptions(request.subscriptions).toBe('(^!)');
      });
    });

    it('does not break unsubscription chains through mergeMap', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const e1 = hot('  --1-2-3-4-5-|');
        const e1subs = '  ^------!';
        const expected = '--1-2-3-';
        const unsub = '   -------!';
        const result = e1.pipe(
          mergeMap((x) => of(x)),
          retryAfter(),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, unsub).toBe(expected);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('stops listening to a synchronous observable when unsubscribed', () => {
      const sideEffects: number[] = [];
      const synchronousObservable = new Observable<number>((subscriber) => {
        for (let i = 0; !subscriber.closed && i < 10; i++) {
          sideEffects.push(i);
          subscriber.next(i);
        }
      });
      synchronousObservable.pipe(retryAfter(), take(3)).subscribe();
      expect(sideEffects).toEqual([0, 1, 2]);
    });

    it('stops a synchronous attempt at its 503 (later values of that attempt are not read)', () => {
      const read: string[] = [];
      const attempt = new Observable<FakeResponse>((subscriber) => {
        for (const r of [busy('1'), ok]) {
          if (subscriber.closed) return;
          read.push(r.label);
          subscriber.next(r);
        }
      });
      attempt.pipe(retryAfter({ maxAttempts: 1 })).subscribe({ error: () => undefined });
      expect(read).toEqual(['503']);
    });

    it.each([
      [
        'status',
        {
          status: () => {
            throw new Error('status threw');
          },
        },
      ],
      [
        'header',
        {
          header: () => {
            throw new Error('header threw');
          },
        },
      ],
      [
        'onRetry',
        {
          onRetry: () => {
            throw new Error('onRetry threw');
          },
        },
      ],
      [
        'random',
        {
          random: () => {
            throw new Error('random threw');
          },
        },
      ],
    ] as const)('errors the stream when %s throws (value and error answers)', (name, options) => {
      testScheduler().run(({ cold, expectObservable }) => {
        const value = cold('-s-', { s: busy('1') });
        expectObservable(value.pipe(retryAfter(options as RetryAfterOptions)), '----!').toBe(
          '-#',
          undefined,
          new Error(`${name} threw`),
        );
        const error = cold('-#', undefined, busy('1'));
        expectObservable(error.pipe(retryAfter(options as RetryAfterOptions))).toBe(
          '-#',
          undefined,
          new Error(`${name} threw`),
        );
      });
    });

    it('errors the stream when random returns a number outside [0, 1)', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const value = cold('-s-', { s: busy('1') });
        expectObservable(value.pipe(retryAfter({ random: () => 1 })), '---!').toBe(
          '-#',
          undefined,
          new RangeError('retryAfter: random must return a number in [0, 1), got 1'),
        );
      });
    });

    it('validates every option at the call', () => {
      const bad: [unknown, ErrorConstructor, string][] = [
        [{ maxAttempts: 0 }, RangeError, 'retryAfter: maxAttempts must be a positive integer, got 0'],
        [{ maxAttempts: 1.5 }, RangeError, 'retryAfter: maxAttempts must be a positive integer, got 1.5'],
        [{ maxAttempts: '3' }, TypeError, 'retryAfter: maxAttempts must be a positive integer, got "3"'],
        [{ maxDelay: -1 }, RangeError, 'retryAfter: maxDelay must be a finite number >= 0, got -1'],
        [{ maxDelay: NaN }, RangeError, 'retryAfter: maxDelay must be a finite number >= 0, got NaN'],
        [{ defaultDelay: Infinity }, RangeError, 'retryAfter: defaultDelay must be a finite number >= 0, got Infinity'],
        [{ jitter: 2 }, RangeError, 'retryAfter: jitter must be a number between 0 and 1, got 2'],
        [{ random: 0.5 }, TypeError, 'retryAfter: random must be a function, got 0.5'],
        [{ statuses: [] }, TypeError, 'retryAfter: statuses must be a non-empty array of HTTP statuses, got an array'],
        [{ statuses: [99] }, RangeError, 'retryAfter: statuses must be HTTP statuses (integers 100 to 599), got 99'],
        [
          { statuses: ['503'] },
          TypeError,
          'retryAfter: statuses must be a non-empty array of HTTP statuses, got "503"',
        ],
        [{ status: 'status' }, TypeError, 'retryAfter: status must be a function, got "status"'],
        [{ header: {} }, TypeError, 'retryAfter: header must be a function, got an object'],
        [{ onRetry: 1 }, TypeError, 'retryAfter: onRetry must be a function, got 1'],
        [
          { scheduler: {} },
          TypeError,
          'retryAfter: scheduler must be a SchedulerLike (with now() and schedule()), got an object',
        ],
        [null, TypeError, 'retryAfter: options must be an object, got null'],
      ];
      for (const [options, kind, message] of bad) {
        expect(() => retryAfter(options as RetryAfterOptions)).toThrow(new kind(message));
        expect(() => retryAfter(options as RetryAfterOptions)).toThrow(kind);
      }
      expect(() => retryAfter({ retries: 3 } as RetryAfterOptions)).toThrow(TypeError);
      expect(() => retryAfter({ retries: 3 } as RetryAfterOptions)).toThrow(/unknown option "retries"/);
    });
  });
});
