// The README's worked example of testing a user pipeline with rxjs-backpressure/testing, run as written there.
import { readFileSync } from 'node:fs';
import { pipe } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { dropOnFull, throttleTokenBucket } from 'rxjs-backpressure';
import type { DemandInput, DropHandler } from 'rxjs-backpressure';
import { CREDITS, checkLaws, dropLane, toMarbles } from 'rxjs-backpressure/testing';

function ingest<T>(
  demand: DemandInput,
  onDrop: DropHandler<T>,
  scheduler?: SchedulerLike,
): MonoTypeOperatorFunction<T> {
  return pipe(
    throttleTokenBucket<T>({ rate: 1, per: 2, burst: 2, mode: 'drop', onDrop, scheduler }),
    dropOnFull<T>({ capacity: 2, overflow: 'drop-oldest', demand, onDrop, scheduler }),
  );
}

describe('ingest', () => {
  it('keeps the freshest events for a slow consumer and reports every drop', () => {
    const scheduler = new TestScheduler((actual, expected) => {
      expect(actual, `\n  actual:   ${toMarbles(actual)}\n  expected: ${toMarbles(expected)}`).toEqual(expected);
    });
    scheduler.run(({ cold, hot, expectObservable }) => {
      const drops = dropLane<string>();
      const source = cold(' -abcd-e--f-----|');
      const demand = hot('  -------1--2', CREDITS);
      expectObservable(source.pipe(ingest(demand, drops, scheduler))).toBe('-------c--(ef)-|');
      expectObservable(drops.reasons$).toBe('---xy-z', { x: 'a:evicted', y: 'd:rate', z: 'b:evicted' });
    });
  });

  it('loses nothing silently, never outruns its consumer, and leaves nothing behind', async () => {
    await checkLaws((ctx) => ingest(ctx.demand, ctx.onDrop, ctx.scheduler), { capacity: 2 });
  });
});

// The README shows this file's code from `function ingest` on: the two must not drift apart.
it('is the code the README shows', () => {
  const tail = (text: string) => text.slice(text.indexOf('function ingest')).trim();
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Testing your pipelines'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const own = readFileSync(new URL(import.meta.url), 'utf8');
  expect(tail(block)).toBe(tail(own.slice(0, own.indexOf('// The README shows'))));
});
