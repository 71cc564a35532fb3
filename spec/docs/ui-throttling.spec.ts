/**
 * docs/ui-throttling.md, checked: every marble diagram of the guide is run here as a marble test (the diagram text is
 * generated from the lanes the test runs, and the guide must contain it verbatim), and the figures of its table (5 s
 * of pointer moves at 200 a second through each pipeline: what is drawn last, and how late) are measured here in
 * virtual time with the library's own operators and compared with what the contract makes them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Subject, animationFrames, asyncScheduler, map, take, throttleTime } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { drain, dropOnFull, latestPerFrame, throttleTokenBucket } from 'rxjs-backpressure';
import { dropLane } from 'rxjs-backpressure/testing';
import { describe, expect, it } from 'vitest';
import { testScheduler } from '../helpers/marbles.js';

const guide = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'ui-throttling.md'), 'utf8');

/** A diagram as the guide draws it: lanes (label, marbles, note), with the call between the input and output lanes. */
interface Diagram {
  input: [string, string, string?][];
  call: string;
  output: [string, string, string?][];
}

/** The diagram's text: each lane as `label:` padded to one column, then its marbles and note; the call on its own line. */
function draw({ input, call, output }: Diagram): string {
  const lanes = [...input, ...output];
  const width = Math.max(9, ...lanes.map(([label]) => label.length + 2));
  const line = ([label, marbles, note]: [string, string, string?]): string =>
    note === undefined ? `${`${label}:`.padEnd(width)}${marbles}` : `${`${label}:`.padEnd(width)}${marbles}   (${note})`;
  return [...input.map(line), call, ...output.map(line)].join('\n');
}

function inGuide(diagram: Diagram): void {
  const text = draw(diagram);
  expect(guide, `docs/ui-throttling.md does not contain the diagram:\n${text}`).toContain(text);
}

const lane = (d: Diagram, label: string): string => {
  const found = [...d.input, ...d.output].find(([l]) => l === label);
  if (found === undefined) throw new Error(`no lane ${label}`);
  return found[1];
};

describe('docs/ui-throttling.md: the diagrams', () => {
  it('pointer moves, drawn once per frame: latestPerFrame()', () => {
    const d: Diagram = {
      input: [
        ['moves', '-a-b-c---d-e|'],
        ['frames', '------x------x', 'requestAnimationFrame'],
      ],
      call: 'latestPerFrame()',
      output: [
        ['drawn', '------c------(e|)', 'the newest value at each frame; e, the last, is drawn'],
        ['dropped', '---a-b-----d', "replaced before their frame: 'evicted'"],
      ],
    };
    inGuide(d);
    testScheduler().run(({ animate, cold, expectObservable }) => {
      animate(lane(d, 'frames'));
      const drops = dropLane<string>();
      expectObservable(cold(lane(d, 'moves')).pipe(latestPerFrame({ onDrop: drops }))).toBe(lane(d, 'drawn'));
      expectObservable(drops.values$).toBe(lane(d, 'dropped'));
    });
  });

  it("pointer moves through a token bucket: 'shape' lags, 'drop' loses the last move", () => {
    const bucket = { rate: 1, per: 4, burst: 1 } as const;
    const d: Diagram = {
      input: [['moves', '-abc------d-ef---|']],
      call: 'throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode })',
      output: [
        ["'shape'", '-a---b---c---d---e---(f|)', 'every move, later and later'],
        ["'drop'", '-a--------d------|', 'f, the last, is never drawn'],
      ],
    };
    inGuide(d);
    testScheduler().run(({ cold, expectObservable }) => {
      const moves = cold(lane(d, 'moves'));
      expectObservable(moves.pipe(throttleTokenBucket(bucket))).toBe(lane(d, "'shape'"));
      expectObservable(moves.pipe(throttleTokenBucket({ ...bucket, mode: 'drop' }))).toBe(lane(d, "'drop'"));
    });
  });

  it('window resize, laid out once per frame: latestPerFrame()', () => {
    const d: Diagram = {
      input: [
        ['sizes', '-(ab)-c------d|'],
        ['frames', '---x---x---x---x'],
      ],
      call: 'latestPerFrame()',
      output: [['layout', '---b---c-------(d|)', 'one layout per frame, the final size last']],
    };
    inGuide(d);
    testScheduler().run(({ animate, cold, expectObservable }) => {
      animate(lane(d, 'frames'));
      expectObservable(cold(lane(d, 'sizes')).pipe(latestPerFrame())).toBe(lane(d, 'layout'));
    });
  });

  it("key presses that are commands: 'shape', bounded", () => {
    const d: Diagram = {
      input: [['keys', '-(abcdef)----------|', 'a held arrow key repeating']],
      call: 'throttleTokenBucket({ rate: 1, per: 4, burst: 2, capacity: 3 })',
      output: [
        ['steps', '-(ab)c---d---e-----|', 'every kept press is one step, in order'],
        ['dropped', '-f', "beyond the 3 waiting: 'overflow'"],
      ],
    };
    inGuide(d);
    testScheduler().run(({ cold, expectObservable }) => {
      const drops = dropLane<string>();
      const steps = cold(lane(d, 'keys')).pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 2, capacity: 3, onDrop: drops }));
      expectObservable(steps).toBe(lane(d, 'steps'));
      expectObservable(drops.values$).toBe(lane(d, 'dropped'));
      expectObservable(drops.reasons$).toBe('-x', { x: 'f:overflow' });
    });
  });

  it('search as you type: one lookup at a time, the newest query next', () => {
    const d: Diagram = {
      input: [['query', '-abc------d-e----|', 'the text after each key']],
      call: "dropOnFull({ capacity: 1, overflow: 'drop-oldest' }), drain(lookUp)",
      output: [
        ['results', '-----a---c----d---(e|)', 'a lookup takes 4 frames; e, the last query, is looked up'],
        ['dropped', '---b', "replaced while a lookup ran: 'evicted'"],
      ],
    };
    inGuide(d);
    testScheduler().run(({ cold, expectObservable }) => {
      const drops = dropLane<string>();
      const lookUp = (query: string) => cold('----(r|)', { r: query });
      const results = cold(lane(d, 'query')).pipe(
        dropOnFull({ capacity: 1, overflow: 'drop-oldest', onDrop: drops }),
        drain(lookUp),
      );
      expectObservable(results).toBe(lane(d, 'results'));
      expectObservable(drops.values$).toBe(lane(d, 'dropped'));
    });
  });
});

describe('docs/ui-throttling.md: frame pacing from the parts', () => {
  it('a capacity-1 drop-oldest queue and a drain that draws, then waits for the next frame', () => {
    expect(guide).toContain("dropOnFull({ capacity: 1, overflow: 'drop-oldest' }),\n    drain((position) => {");
    const drawn: [number, string][] = [];
    const scheduler = testScheduler();
    scheduler.run(({ animate, cold, expectObservable }) => {
      // a is drawn at once (the drain is idle), then the drain waits for the frame at 6: c (which replaced b) is drawn
      // then, e (which replaced d) at the frame at 13; the drain completes at the frame after e's draw, 20
      animate('           ------x------x------x');
      const moves = cold('-a-b-c---d-e|');
      const drops = dropLane<string>();
      const paced = moves.pipe(
        dropOnFull({ capacity: 1, overflow: 'drop-oldest', onDrop: drops }),
        drain((position: string) => {
          drawn.push([scheduler.now(), position]);
          return animationFrames().pipe(
            take(1),
            map(() => position),
          );
        }),
      );
      expectObservable(paced).toBe('------a------c------(e|)');
      expectObservable(drops.values$).toBe('-----b-----d');
    });
    // drawn at once when idle (a), then once per frame (c at 6, e at 13): at most one draw per frame, the last drawn
    expect(drawn).toEqual([
      [1, 'a'],
      [6, 'c'],
      [13, 'e'],
    ]);
  });
});

/** 5 s of pointer moves at 200 a second: move k at 5k + 1 ms (off every token and frame instant), k = 0..999. */
const MOVES = 1000;
const moveAt = (k: number): number => 5 * k + 1;
const LAST_SENT = moveAt(MOVES - 1);

interface Measured {
  drawn: number;
  last: number;
  lastAt: number;
}

/** Runs the 1000 moves through `operator` in virtual time; what was drawn, the last value and when. */
function measure(operator: (scheduler: TestScheduler) => MonoTypeOperatorFunction<number>): Measured {
  const scheduler = new TestScheduler(() => undefined);
  const drawn: [number, number][] = [];
  scheduler.run(() => {
    const moves = new Subject<number>();
    moves.pipe(operator(scheduler)).subscribe((k) => drawn.push([scheduler.now(), k]));
    for (let k = 0; k < MOVES; k++) scheduler.schedule(() => moves.next(k), moveAt(k));
    scheduler.schedule(() => moves.complete(), LAST_SENT + 1);
  });
  const [lastAt, last] = drawn.at(-1) ?? [NaN, NaN];
  return { drawn: drawn.length, last, lastAt };
}

/** 60 Hz animation frames in virtual time (frame n at 1000n/60 ms), as a hot stream. */
function frames60(scheduler: TestScheduler): Observable<number> {
  const frames = new Subject<number>();
  for (let n = 1; n <= 400; n++) scheduler.schedule(() => frames.next(n), (1000 * n) / 60);
  return frames;
}

describe('docs/ui-throttling.md: 5 s of pointer moves at 200/s, measured', () => {
  const UI = { rate: 20, burst: 5 } as const;

  it("'shape' (the default) draws every move, the last one 44.8 s late", () => {
    const m = measure(() => throttleTokenBucket(UI));
    // FIFO, nothing lost (896 wait at most, within the default capacity of 1000). The bucket is full (5) until the
    // first move, at 1 ms, and is then emptied as fast as it fills (one token per 50 ms), so move k is paid when
    // k + 1 tokens have been, at 1 + 50 (k - 4) ms: the last, k = 999, at 49 751 ms, 44 755 ms after it was sent
    expect(m.drawn).toBe(MOVES);
    expect(m.last).toBe(MOVES - 1);
    expect(m.lastAt).toBe(1 + 50 * (MOVES - 1 - 4));
    expect(m.lastAt - LAST_SENT).toBe(44_755);
    expect(guide).toContain('44.8 s');
  });

  it("'drop' draws 104 moves and never the last: the drawing stops 40 to 45 ms short", () => {
    const m = measure(() => throttleTokenBucket({ ...UI, mode: 'drop' }));
    // The burst (moves 0-4), then one move per token. The n-th token after the burst falls due at 1 + 50 n ms, the
    // very instant move 10 n arrives: the contract leaves that tie open (admitted then, or at the next move, 10 n + 1).
    // Either way one move per token, 99 tokens before the last move (4996 ms), which finds the bucket empty: the last
    // drawn is move 990 or 991, 45 or 40 ms before it.
    expect(m.drawn).toBe(5 + 99);
    expect([990, 991]).toContain(m.last);
    expect(guide).toMatch(/'drop'.*\| 104 \| move 990 or 991, 40 to 45 ms before the last/);
  });

  it('latestPerFrame() at 60 Hz draws once per frame, the last move 4 ms after it was sent', () => {
    const m = measure((scheduler) => latestPerFrame({ frames: frames60(scheduler) }));
    // every frame from 16.7 ms to 5000 ms has a new move (one every 5 ms): 300 frames; the last move (4996 ms) is
    // drawn at the next frame, 5000 ms
    expect(m.drawn).toBe(300);
    expect(m.last).toBe(MOVES - 1);
    expect(m.lastAt).toBe(5000);
    expect(guide).toMatch(/latestPerFrame\(\).*\| 300 \| the last, 4 ms later/);
  });

  it("rxjs throttleTime(50, { leading, trailing }) for comparison: the last move drawn, within 50 ms", () => {
    const m = measure(() => throttleTime(50, asyncScheduler, { leading: true, trailing: true }));
    expect(m.last).toBe(MOVES - 1);
    expect(m.lastAt - LAST_SENT).toBeGreaterThan(0);
    expect(m.lastAt - LAST_SENT).toBeLessThanOrEqual(50);
  });
});

describe("docs/ui-throttling.md: mode 'latest'", () => {
  it("pointer moves sent at a rate: 'latest' sends the last one", () => {
    const d: Diagram = {
      input: [['moves', '-abc------d-ef---|']],
      call: "throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'latest' })",
      output: [
        ['sent', '-a---c----d---f--|', 'f, the last, is sent'],
        ['replaced', '---b---------e', "reason 'rate'"],
      ],
    };
    inGuide(d);
    testScheduler().run(({ cold, expectObservable }) => {
      const drops = dropLane<string>();
      const sent = cold(lane(d, 'moves')).pipe(
        throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'latest', onDrop: drops }),
      );
      expectObservable(sent).toBe(lane(d, 'sent'));
      expectObservable(drops.reasons$).toBe(lane(d, 'replaced'), { b: 'b:rate', e: 'e:rate' });
    });
  });

  it("scroll offsets checked at a rate: 'latest' checks the final one", () => {
    const d: Diagram = {
      input: [['offsets', '-12-3-----4-5|']],
      call: "throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'latest' })",
      output: [['checked', '-1---3----4---(5|)', '5, the final offset, is checked']],
    };
    inGuide(d);
    testScheduler().run(({ cold, expectObservable }) => {
      const checked = cold(lane(d, 'offsets')).pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'latest' }));
      expectObservable(checked).toBe(lane(d, 'checked'));
    });
  });

  it("5 s of moves at 200/s: 'latest' draws 105, the last 5 ms after it was sent", () => {
    const m = measure(() => throttleTokenBucket({ rate: 20, burst: 5, mode: 'latest' }));
    // The burst (moves 0-4), then, each time a token falls due (1 + 50 n ms, n = 1..100), the newest move held: 100
    // more. The last move (4996 ms) is held until the 100th, at 5001 ms.
    expect(m.drawn).toBe(5 + 100);
    expect(m.last).toBe(MOVES - 1);
    expect(m.lastAt - LAST_SENT).toBe(5);
    expect(guide).toMatch(/mode: 'latest' \}\)` \| 105 \| the last, 5 ms later/);
  });
});
