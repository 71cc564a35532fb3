/**
 * The last position: the same pointer moves over #track and the same scroll events of #scroller feed several
 * pipelines at once, and each shows the last value it drew beside the last one sent.
 *
 * - `'drop'`: `throttleTokenBucket({ ...BUCKET, mode: 'drop' })`. A quick gesture empties the bucket, and every move
 *   after that is dropped until a token is due: the last one too, so the drawing stays where the gesture began.
 * - `'latest'`: `throttleTokenBucket({ ...BUCKET, mode: 'latest' })`, the same bucket: a move it cannot pay for is
 *   held, replacing the one held before, and drawn when a token is due; the last one always.
 * - `'frame'`: `latestPerFrame()`, the frame-paced renderer: the newest value once per animation frame, the last one
 *   always.
 *
 * BUCKET is slow on purpose (a burst, then one token every BUCKET.per ms), so that a gesture shorter than one token
 * interval shows the difference every time: the burst passes, nothing else does. A UI bucket is faster (20 a second,
 * say) and loses the last move the same way whenever it comes less than one token interval after an admitted one.
 *
 * For the browser test, `#final` carries, per source (`pointer`, `scroll`) and lane (`sent`, then each pipeline):
 * `data-<source>-<lane>` the last value (`x,y` in track pixels, or the scroll offset), `data-<source>-<lane>-draws`,
 * `data-<source>-<lane>-dropped` (through onDrop), `data-<source>-<lane>-frames` (animation frames from the first value
 * sent to the lane's last draw, both counted, by a requestAnimationFrame loop of the page); `data-<source>-first-at`
 * / `-last-at`, the scheduler times of the first and last value sent; the bucket as `data-bucket-rate`, `-per` and
 * `-burst`; `data-lanes`, the pipelines on the page.
 */
import { asyncScheduler, fromEvent, map, mergeMap, share, tap } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { latestPerFrame, throttleTokenBucket } from 'rxjs-backpressure';

/** The token buckets of the comparison: a burst of 5, then one token every 5 s. */
const BUCKET = { rate: 1, per: 5000, burst: 5 } as const;

type Source = 'pointer' | 'scroll';

/** One pipeline under comparison: a name, a colour, and the operator, given the onDrop that counts its drops. */
interface Lane {
  name: string;
  label: string;
  colour: string;
  operator: <T>(onDrop: () => void) => MonoTypeOperatorFunction<T>;
}

const LANES: readonly Lane[] = [
  {
    name: 'drop',
    label: "throttleTokenBucket 'drop'",
    colour: '#d1453b',
    operator: (onDrop) => throttleTokenBucket({ ...BUCKET, mode: 'drop', onDrop }),
  },
  {
    name: 'latest',
    label: "throttleTokenBucket 'latest'",
    colour: '#2a9d4b',
    operator: (onDrop) => throttleTokenBucket({ ...BUCKET, mode: 'latest', onDrop }),
  },
  {
    name: 'frame',
    label: 'latestPerFrame()',
    colour: '#2a64c8',
    operator: (onDrop) => latestPerFrame({ onDrop }),
  },
];

const element = <E extends HTMLElement>(id: string): E => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} missing`);
  return found as E;
};
const track = element<HTMLCanvasElement>('track');
const scroller = element<HTMLDivElement>('scroller');
const final = element<HTMLTableElement>('final');
const context = track.getContext('2d');
element('bucket-burst').textContent = String(BUCKET.burst);
element('bucket-per').textContent = String(BUCKET.per);

const mark = (name: string, value: string | number): void => final.setAttribute(`data-${name}`, String(value));
mark('bucket-rate', BUCKET.rate);
mark('bucket-per', BUCKET.per);
mark('bucket-burst', BUCKET.burst);
mark('lanes', LANES.map((lane) => lane.name).join(','));

/** A row of the table per lane (and one for what was sent): its cells, by source. */
const cells = new Map<string, Record<Source, { value: HTMLElement; draws: HTMLElement }>>();
for (const { name, label, colour } of [{ name: 'sent', label: 'sent (every value)', colour: '#222' }, ...LANES]) {
  const row = final.tBodies[0]!.insertRow();
  const first = row.insertCell();
  const swatch = first.appendChild(document.createElement('span'));
  swatch.style.cssText = `display: inline-block; width: 10px; height: 10px; margin-right: 6px; background: ${colour}`;
  first.append(label);
  const cell = (): HTMLElement => {
    const td = row.insertCell();
    td.textContent = '-';
    return td;
  };
  cells.set(name, { pointer: { value: cell(), draws: cell() }, scroll: { value: cell(), draws: cell() } });
}

/** The last values drawn per lane, for the track's picture. */
const drawnAt = new Map<string, { x: number; y: number }>();

function paintTrack(): void {
  if (context === null) return;
  context.clearRect(0, 0, track.width, track.height);
  const sent = drawnAt.get('sent');
  LANES.forEach((lane, i) => {
    const at = drawnAt.get(lane.name);
    if (at === undefined) return;
    context.fillStyle = lane.colour;
    context.beginPath();
    context.arc(at.x, at.y, 9 - 2 * i, 0, 2 * Math.PI);
    context.fill();
  });
  if (sent !== undefined) {
    context.strokeStyle = '#222';
    context.strokeRect(sent.x - 6, sent.y - 6, 12, 12);
  }
}

/** Animation frames since the page loaded, counted by a requestAnimationFrame loop of its own. */
let frames = 0;
const countFrame = (): void => {
  frames++;
  requestAnimationFrame(countFrame);
};
requestAnimationFrame(countFrame);
/** The frame count when each source sent its first value. */
const firstFrame = new Map<Source, number>();

/** How many values each lane drew, per source. */
const draws = new Map<string, number>();

function drew(source: Source, lane: string, value: string): void {
  const key = `${source}-${lane}`;
  const count = (draws.get(key) ?? 0) + 1;
  draws.set(key, count);
  if (!firstFrame.has(source)) firstFrame.set(source, frames);
  mark(key, value);
  mark(`${key}-draws`, count);
  // frames from the first value sent to this draw, both counted (a draw may run before the loop's callback in a frame)
  mark(`${key}-frames`, frames - firstFrame.get(source)! + 1);
  const row = cells.get(lane)?.[source];
  if (row !== undefined) {
    row.value.textContent = value;
    row.draws.textContent = String(count);
  }
}

const dropped = new Map<string, number>();
function drop(source: Source, lane: string): void {
  const key = `${source}-${lane}-dropped`;
  const n = (dropped.get(key) ?? 0) + 1;
  dropped.set(key, n);
  mark(key, n);
}

/** Records a value as sent (and the times of the first and last), before any pipeline sees it. */
function sent<T>(source: Source, show: (value: T) => string): MonoTypeOperatorFunction<T> {
  return tap((value) => {
    const now = asyncScheduler.now();
    if (!final.hasAttribute(`data-${source}-first-at`)) mark(`${source}-first-at`, now);
    mark(`${source}-last-at`, now);
    drew(source, 'sent', show(value));
  });
}

interface Point {
  x: number;
  y: number;
}
const showPoint = (p: Point): string => `${p.x},${p.y}`;

// Every raw sample of the pointer (the browser merges the moves of one frame into one event), in track pixels.
const pointer$: Observable<Point> = fromEvent<PointerEvent>(track, 'pointermove').pipe(
  mergeMap((event) => {
    const samples = event.getCoalescedEvents?.() ?? [];
    return samples.length > 0 ? samples : [event];
  }),
  map((sample) => {
    const area = track.getBoundingClientRect();
    return { x: Math.round(sample.clientX - area.left), y: Math.round(sample.clientY - area.top) };
  }),
  sent('pointer', showPoint),
  tap((p) => drawnAt.set('sent', p)),
  share(),
);
const scroll$: Observable<number> = fromEvent(scroller, 'scroll').pipe(
  map(() => Math.round(scroller.scrollTop)),
  sent('scroll', String),
  share(),
);

for (const lane of LANES) {
  pointer$.pipe(lane.operator<Point>(() => drop('pointer', lane.name))).subscribe((p) => {
    drawnAt.set(lane.name, p);
    drew('pointer', lane.name, showPoint(p));
    paintTrack();
  });
  scroll$.pipe(lane.operator<number>(() => drop('scroll', lane.name))).subscribe((top) => {
    drew('scroll', lane.name, String(top));
  });
}
mark('ready', 1);
