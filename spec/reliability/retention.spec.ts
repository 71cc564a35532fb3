/**
 * No value retained after the end: values queued in an operator become unreachable once the stream completes, errors
 * or is unsubscribed, although the subscription, the source and the operator function are still held.
 *
 * How: each value is an object watched by a WeakRef; after the end (and after a macrotask, since WeakRef targets
 * live until the job that touched them ends) a real full GC runs, and every WeakRef must be empty. vitest does not
 * start node with --expose-gc, so the spec turns the flag on at runtime (v8.setFlagsFromString) and takes `gc` from a
 * fresh context, a documented V8 behaviour; if that ever fails to produce a gc function the spec fails rather than
 * passing vacuously. Under DEEP=1 each scenario runs 20 times instead of 2.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Subject } from 'rxjs';
import type { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics } from '../../src/index.js';
import { OPERATORS, Clock, DEEP } from '../contract/registry.js';
import type { RegisteredOperator } from '../contract/registry.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Token {
  id: number;
  payload: number[];
}

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Builds, fills and ends a pipeline; returns what a caller would still hold, plus WeakRefs to every value sent. */
function fill(
  c: RegisteredOperator,
  end: 'complete' | 'error' | 'unsubscribe',
): { refs: WeakRef<Token>[]; held: unknown[]; subscription: Subscription } {
  const clock = new Clock();
  const demand = new Demand();
  const source = new Subject<Token>();
  const operator = c.build<Token>({
    capacity: 50,
    demand: c.demand ? demand : undefined,
    onDrop: () => undefined,
    metrics: new QueueMetrics({ scheduler: clock }),
    scheduler: clock,
  });
  const subscription = source.pipe(operator).subscribe({ error: () => undefined });
  const refs: WeakRef<Token>[] = [];
  for (let id = 0; id < 40; id++) {
    const token: Token = { id, payload: new Array<number>(64).fill(id) };
    refs.push(new WeakRef(token));
    source.next(token);
  }
  demand.request(3);
  if (end === 'complete') {
    source.complete();
    demand.request(Infinity);
    clock.advance(10_000);
  } else if (end === 'error') source.error(new Error('upstream'));
  else subscription.unsubscribe();
  return { refs, held: [clock, demand, source, operator], subscription };
}

const rounds = DEEP ? 20 : 2;

describe('no value retained after the end (WeakRef + forced GC)', () => {
  it('the forced GC works (a dropped object is collected)', async () => {
    expect(typeof gc).toBe('function');
    const ref = ((): WeakRef<object> => new WeakRef({}))();
    await macrotask();
    gc();
    expect(ref.deref()).toBeUndefined();
  });

  for (const c of OPERATORS) {
    for (const end of ['complete', 'error', 'unsubscribe'] as const) {
      it(`${c.name} after ${end}: every value sent is collectable`, async () => {
        for (let round = 0; round < rounds; round++) {
          const { refs, held, subscription } = fill(c, end);
          await macrotask();
          gc();
          const alive = refs.filter((r) => r.deref() !== undefined).map((r) => r.deref()!.id);
          expect(alive).toEqual([]);
          expect(held.length).toBe(4); // the pipeline's parts are still reachable here
          expect(subscription.closed).toBe(true);
        }
      });
    }
  }
});
