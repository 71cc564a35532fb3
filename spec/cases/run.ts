import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
import type { CaseHelpers, MarbleCase } from './types.js';

/**
 * Runs one case in a fresh TestScheduler: drives the lanes the case reads, asserts every lane it returns, and fails on a
 * lane that is drawn but neither driven nor asserted (a diagram must not show what no test checks).
 */
export function runCase(marbleCase: MarbleCase): void {
  const { lanes, values } = marbleCase;
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  scheduler.run(({ animate, cold, hot, expectObservable, expectSubscriptions }) => {
    const driven = new Set<string>();
    const lane = (name: string): string => {
      const marbles = lanes[name];
      if (marbles === undefined) throw new Error(`${marbleCase.id}: no lane '${name}'`);
      driven.add(name);
      return marbles;
    };
    let source: ReturnType<typeof cold> | undefined;
    const helpers: CaseHelpers = {
      source: <T>(name = 'source') => {
        source = cold(lane(name), marbleCase.laneValues?.[name] ?? values);
        return source as unknown as Observable<T>;
      },
      credits: (name = 'demand') => hot(lane(name), CREDITS),
      frames: (name = 'frames') => animate(lane(name)),
      drops: <T>() => {
        const lane = dropLane<T>();
        return { onDrop: lane, values: lane.values$ };
      },
      scheduler,
      cold: (marbles, laneValues) => cold(marbles, laneValues),
    };
    const observed = marbleCase.build(helpers);
    for (const [name, marbles] of Object.entries(lanes)) {
      const actual = observed[name];
      if (actual === undefined) {
        if (!driven.has(name)) throw new Error(`${marbleCase.id}: lane '${name}' is neither driven nor asserted`);
        continue;
      }
      const laneValues = marbleCase.laneValues?.[name] ?? (name === 'demand' ? CREDITS : values);
      const error = marbleCase.error === undefined ? undefined : expect.any(marbleCase.error);
      expectObservable(actual).toBe(marbles, laneValues, error);
    }
    for (const name of Object.keys(observed)) {
      if (lanes[name] === undefined) throw new Error(`${marbleCase.id}: build returned '${name}', which is not drawn`);
    }
    if (marbleCase.subscription !== undefined) {
      if (source === undefined) throw new Error(`${marbleCase.id}: a subscription marble needs h.source()`);
      expectSubscriptions(source.subscriptions).toBe(marbleCase.subscription);
    }
  });
}
