import type { Observable, Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { Dropped } from '../../src/types.js';

/**
 * One canonical marble case of an operator, as data: the spec runs it in a TestScheduler and asserts every lane it
 * observes, and the docs generator draws the same lanes as an SVG. Lanes are drawn top to bottom in key order.
 */
export interface MarbleCase {
  /** File name of the diagram: docs/marbles/<id>.svg. */
  id: string;
  /** One line on what the case shows. */
  title: string;
  /** The export this case documents (the diagram's heading). */
  operator: string;
  /** The call as a user writes it, drawn as the operator box between the input and the output lanes. */
  call: string;
  /** A non-marble input, drawn as a text row above the lanes (e.g. the generator a `pull()` reads). */
  input?: string;
  /**
   * Marble lanes by name, in drawing order. Every lane is either driven (an input via `h.source(name)`, credits via
   * `h.credits(name)`) or observed (returned by `build` and asserted): the runner fails on a lane that is neither.
   */
  lanes: Record<string, string>;
  /** The subscription marble of the `source` lane (e.g. `'^--------!'`), asserted when given; not drawn. */
  subscription?: string;
  /** A short caption drawn at the right of a lane (e.g. the drop reason). */
  captions?: Record<string, string>;
  /** Values of the `source` and observed lanes by marble character; a character without an entry stands for itself. */
  values?: Record<string, unknown>;
  /** Values of one lane, overriding `values` there (e.g. a `state` lane where `o` stands for `'open'`). */
  laneValues?: Record<string, Record<string, unknown>>;
  /** The class of the error a `#` in an observed lane stands for (its name is drawn under the X). */
  error?: new (...args: never[]) => Error;
  /** Extra lines drawn under the diagram (legend of value characters, what the case shows). */
  notes?: string[];
  /** Builds the observed lanes from the driven ones. Called inside `TestScheduler.run`. */
  build: (h: CaseHelpers) => Partial<Record<string, Observable<unknown>>>;
}

/** What a case's `build` gets: the driven lanes, a drop lane, and the run helpers. */
export interface CaseHelpers {
  /** A lane (default `source`) as a cold observable of the case values. */
  source<T = string>(lane?: string): Observable<T>;
  /** A lane of credits (digits stand for themselves, `i` for Infinity) as a hot observable. */
  credits(lane?: string): Observable<number>;
  /**
   * A lane (default `frames`) of animation frames: each `x` runs the requestAnimationFrame callbacks then, so rxjs'
   * `animationFrames()` (and an operator that uses it) sees a frame there (TestScheduler.run's `animate()`).
   */
  frames(lane?: string): void;
  /** An onDrop Subject and the dropped values, to return as the `drops` lane. */
  drops<T = string>(): { onDrop: Subject<Dropped<T>>; values: Observable<T> };
  /** The run's scheduler, for options that read time. */
  scheduler: TestScheduler;
  cold: <T = string>(marbles: string, values?: Record<string, T>) => Observable<T>;
}
