/**
 * The laws of latestPerFrame, on random arrivals in virtual time, frames driven by TestScheduler.run's animate() (the
 * requestAnimationFrame that rxjs' animationFrames() uses), alone and in front of a drain with random render times:
 *
 * - conservation: every value received ends exactly once, emitted or dropped (however the stream ends);
 * - never stale: an emitted value is the newest one received so far, so values come out in arrival order;
 * - frame paced: values go out only at frames, at most one per frame;
 * - prompt: alone (unbounded credit), a value is emitted at the first frame after its arrival unless a newer one
 *   arrived before that frame (then it is reported 'evicted');
 * - the last value is always emitted: on completion, the newest value goes out (at a frame) before `complete`.
 *
 * Arrivals never fall exactly on a frame (the order of two actions due in the same virtual instant is the
 * scheduler's, not the operator's), so "the first frame after an arrival" is well defined.
 */
import fc from 'fast-check';
import { Subject, finalize, tap, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { drain, latestPerFrame } from '../../src/index.js';
import type { DropReason } from '../../src/index.js';
import { testScheduler } from '../helpers/marbles.js';

const RUNS = Number(process.env['PROPERTY_RUNS']) > 0 ? Number(process.env['PROPERTY_RUNS']) : 300;

describe('latestPerFrame properties', () => {
  it('conserves, is never stale, paces by frames, is prompt, and always emits the last value', () => {
    fc.assert(
      fc.property(
        fc.record({
          period: fc.integer({ min: 2, max: 6 }),
          gaps: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 60 }),
          end: fc.constantFrom('complete', 'error', 'unsubscribe', 'none'),
          endGap: fc.integer({ min: 0, max: 20 }),
          /** Render times of a drain below (concurrency 1), or none: unbounded credit. */
          renders: fc.option(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }), {
            nil: undefined,
          }),
        }),
        ({ period, gaps, end, endGap, renders }) => {
          const onFrame = (t: number): boolean => t > 0 && t % period === 0;
          // arrival times, moved off the frames
          const times: number[] = [];
          let t = 1;
          for (const gap of gaps) {
            t += gap;
            if (onFrame(t)) t++;
            times.push(t);
          }
          let endAt = (times.at(-1) ?? 1) + endGap;
          if (onFrame(endAt)) endAt++;
          const horizon = endAt + 40 * period + 200;
          const frames = Array.from({ length: horizon }, (_, i) => (onFrame(i) ? 'x' : '-')).join('');

          const emitted: { at: number; value: number }[] = [];
          const drops: { value: number; reason: DropReason; at: number }[] = [];
          let newest = -1;
          let rendering = 0;
          let mostRendering = 0;
          let completedAt: number | undefined;
          let erroredAt: number | undefined;
          const ts = testScheduler();
          ts.run(({ animate }) => {
            animate(frames);
            const source = new Subject<number>();
            const paced = source.pipe(
              tap((value) => (newest = value)),
              latestPerFrame<number>({ onDrop: (d) => drops.push({ value: d.value, reason: d.reason, at: d.at }) }),
              tap((value) => emitted.push({ at: ts.now(), value })),
            );
            const output =
              renders === undefined
                ? paced
                : paced.pipe(
                    drain((_, i) => {
                      rendering++;
                      mostRendering = Math.max(mostRendering, rendering);
                      return timer(renders[i % renders.length]!).pipe(finalize(() => rendering--));
                    }),
                  );
            const subscription = output.subscribe({
              complete: () => (completedAt = ts.now()),
              error: () => (erroredAt = ts.now()),
            });
            times.forEach((at, i) => ts.schedule(() => source.next(i), at));
            if (end === 'complete') ts.schedule(() => source.complete(), endAt);
            if (end === 'error') ts.schedule(() => source.error(new Error('upstream')), endAt);
            if (end === 'unsubscribe') ts.schedule(() => subscription.unsubscribe(), endAt);
            ts.schedule(() => subscription.unsubscribe(), horizon - 1);
          });

          const received = times.length;
          // conservation: each value once, emitted or dropped
          const ends = [...emitted.map((e) => e.value), ...drops.map((d) => d.value)].sort((a, b) => a - b);
          expect(ends).toEqual(times.map((_, i) => i));
          // never stale: each emission is the newest value received by then (newest is tracked at arrival)
          const arrivedBy = (at: number): number => times.filter((a) => a <= at).length - 1;
          for (const e of emitted) expect(e.value).toBe(arrivedBy(e.at));
          // frame paced: only at frames, at most one per frame
          for (const e of emitted) expect(onFrame(e.at), `emitted at ${e.at}, not a frame`).toBe(true);
          expect(new Set(emitted.map((e) => e.at)).size).toBe(emitted.length);
          // drops: a newer arrival evicts ('evicted', at that arrival); the end takes the rest ('error'/'cancelled')
          for (const d of drops) {
            if (d.reason === 'evicted') expect(d.at).toBe(times[d.value + 1]);
            else expect(d.reason).toBe(end === 'error' ? 'error' : 'cancelled');
          }
          if (renders === undefined) {
            // prompt: the first frame after its arrival emits it, unless the next value arrived before that frame
            times.forEach((at, i) => {
              const frame = Math.ceil(at / period) * period;
              const next = times[i + 1];
              const stopped = end !== 'complete' && end !== 'none' && endAt < frame;
              if (stopped || (next !== undefined && next < frame)) return;
              expect(emitted.find((e) => e.value === i)?.at, `value ${i} (arrived at ${at})`).toBe(frame);
            });
          }
          if (end === 'complete') {
            if (received > 0) expect(emitted.at(-1)?.value).toBe(received - 1);
            expect(completedAt).toBeDefined();
            expect(drops.every((d) => d.reason === 'evicted')).toBe(true);
          }
          // with a drain below: only against its credit, so one render at a time (concurrency 1), and no error
          expect(mostRendering).toBeLessThanOrEqual(1);
          expect(erroredAt).toBe(end === 'error' ? endAt : undefined);
          expect(newest).toBe(received - 1);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
