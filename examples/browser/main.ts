/**
 * Frontend event throttling: pointer moves, clicks, scroll and keystrokes through the library's operators, with live
 * counters and a chart of emitted vs dropped events per second.
 *
 *   npm run example:browser        (builds with Vite and serves on http://127.0.0.1:5173)
 *
 * - Pointer moves (every raw sample: the browser merges the moves of one frame into one event, whose
 *   `getCoalescedEvents()` lists them) pass a token bucket in `'drop'` mode (MOVE_RATE a second, bursts of MOVE_BURST), then share a
 *   priority queue (`shedByPriority`, capacity PAD_QUEUE) with clicks in front of a renderer that takes RENDER_MS per
 *   event. Clicks outrank moves: a click arriving at a full queue evicts the oldest queued move, so clicks are not lost
 *   to pointer noise (only to a queue already full of clicks).
 * - Scroll events of the feed pass their own token bucket (`'drop'`).
 * - Keystrokes in the search box go through `dropOnFull` (`'drop-oldest'`, capacity KEY_QUEUE) in front of a slow
 *   lookup (one at a time, LOOKUP_MS each): typing faster than the lookup keeps the newest keys.
 *
 * Every event ends as emitted or dropped; the counters are the `data-*` attributes of `#counters` (and the cells with
 * the same ids), for the browser test: `data-moves-received`, `data-moves-admitted` (through the bucket),
 * `data-moves-delivered`, `data-moves-dropped`, `data-moves-pending`, the same for clicks, scrolls and keys, the
 * bucket settings `data-move-rate` and `data-move-burst`, the priority queue's capacity `data-pad-queue`, and the scheduler times of the first and last pointer move,
 * `data-moves-first-at` and `data-moves-last-at`.
 *
 * Open the page with `?naive` to compare: no buckets and unbounded queues (`concatMap`), so nothing is dropped and
 * everything, clicks included, waits behind the pointer noise (`data-mode` says which).
 */
import { asyncScheduler, concatMap, fromEvent, identity, map, merge, mergeMap, pipe, tap, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, OperatorFunction } from 'rxjs';
import { Demand, dropOnFull, shedByPriority, throttleTokenBucket } from 'rxjs-backpressure';
import type { Dropped } from 'rxjs-backpressure';

/** Pointer moves admitted per second, and the bucket size (a burst after a pause). */
const MOVE_RATE = 30;
const MOVE_BURST = 10;
/**
 * Events waiting for the renderer, and how long it takes per event. Moves are shed first, so a click is lost only when
 * PAD_QUEUE clicks are already waiting (over half a second of rendering): more than a burst of fast clicking.
 */
const PAD_QUEUE = 32;
const RENDER_MS = 20;
const SCROLL_RATE = 10;
const SCROLL_BURST = 3;
const KEY_QUEUE = 4;
const LOOKUP_MS = 60;

type Stream = 'moves' | 'clicks' | 'scrolls' | 'keys';
const STREAMS: readonly Stream[] = ['moves', 'clicks', 'scrolls', 'keys'];

/** Per stream: received, emitted (delivered) and dropped; pending = received - delivered - dropped. */
interface Tally {
  received: number;
  delivered: number;
  dropped: number;
}

type PadEvent = { kind: 'move'; x: number; y: number } | { kind: 'click'; x: number; y: number };

const tallies: Record<Stream, Tally> = {
  moves: { received: 0, delivered: 0, dropped: 0 },
  clicks: { received: 0, delivered: 0, dropped: 0 },
  scrolls: { received: 0, delivered: 0, dropped: 0 },
  keys: { received: 0, delivered: 0, dropped: 0 },
};
let movesAdmitted = 0;
let firstMoveAt: number | undefined;
let lastMoveAt: number | undefined;

/** Emitted and dropped per whole second, the last CHART_SECONDS of them. */
const CHART_SECONDS = 30;
const perSecond: { second: number; emitted: number; dropped: number }[] = [];

function bucketOfNow(): { emitted: number; dropped: number } {
  const second = Math.floor(asyncScheduler.now() / 1000);
  let last = perSecond[perSecond.length - 1];
  if (last === undefined || last.second !== second) {
    last = { second, emitted: 0, dropped: 0 };
    perSecond.push(last);
    if (perSecond.length > CHART_SECONDS) perSecond.shift();
  }
  return last;
}

function received(stream: Stream): void {
  tallies[stream].received++;
}
function delivered(stream: Stream): void {
  tallies[stream].delivered++;
  bucketOfNow().emitted++;
}
function dropped(stream: Stream): void {
  tallies[stream].dropped++;
  bucketOfNow().dropped++;
}

const element = <E extends HTMLElement>(id: string): E => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} missing`);
  return found as E;
};
const pad = element<HTMLCanvasElement>('pad');
const chart = element<HTMLCanvasElement>('chart');
const search = element<HTMLInputElement>('search');
const feed = element<HTMLDivElement>('feed');
const lookup = element<HTMLElement>('lookup');
const counters = element<HTMLOutputElement>('counters');
for (let i = 1; i <= 60; i++) feed.appendChild(document.createElement('div')).textContent = `item ${i}`;
/**
 * `?naive` turns the library off for comparison: no token buckets, and unbounded queues (`concatMap`) in front of the
 * renderer and the lookup, so every event is kept and handled late.
 */
const naive = new URLSearchParams(location.search).has('naive');
counters.dataset['mode'] = naive ? 'naive' : 'backpressure';
if (naive) element('mode').textContent = ' (naive mode: no backpressure, unbounded queues)';
counters.dataset['moveRate'] = String(MOVE_RATE);
counters.dataset['moveBurst'] = String(MOVE_BURST);
counters.dataset['padQueue'] = String(PAD_QUEUE);

// Pointer moves and clicks: token bucket for moves, then one priority queue in front of a slow renderer.
const padDemand = new Demand();
const padContext = pad.getContext('2d');
const moves = fromEvent<PointerEvent>(pad, 'pointermove').pipe(
  // The browser merges the moves of one frame into one event; its getCoalescedEvents() holds every raw sample.
  mergeMap((event) => {
    const samples = event.getCoalescedEvents?.() ?? [];
    return samples.length > 0 ? samples : [event];
  }),
  tap(() => {
    received('moves');
    const now = asyncScheduler.now();
    firstMoveAt ??= now;
    lastMoveAt = now;
  }),
  naive
    ? identity
    : throttleTokenBucket<PointerEvent>({
        rate: MOVE_RATE,
        burst: MOVE_BURST,
        mode: 'drop',
        onDrop: () => dropped('moves'),
      }),
  tap(() => movesAdmitted++),
  map((event): PadEvent => {
    const area = pad.getBoundingClientRect();
    return { kind: 'move', x: event.clientX - area.left, y: event.clientY - area.top };
  }),
);
const clicks = fromEvent<MouseEvent>(pad, 'click').pipe(
  tap(() => received('clicks')),
  map((event): PadEvent => ({ kind: 'click', x: event.offsetX, y: event.offsetY })),
);
const render = (event: PadEvent): Observable<PadEvent> => timer(RENDER_MS).pipe(map(() => event));
const renderQueue: OperatorFunction<PadEvent, PadEvent> = naive
  ? concatMap(render)
  : pipe(
      shedByPriority<PadEvent>({
        capacity: PAD_QUEUE,
        priority: (event) => (event.kind === 'click' ? 1 : 0),
        demand: padDemand,
        onDrop: ({ value }: Dropped<PadEvent>) => dropped(value.kind === 'click' ? 'clicks' : 'moves'),
      }),
      padDemand.drain(render, { concurrency: 1 }),
    );
merge(moves, clicks)
  .pipe(renderQueue)
  .subscribe((event) => {
    delivered(event.kind === 'click' ? 'clicks' : 'moves');
    if (padContext === null) return;
    padContext.fillStyle = event.kind === 'click' ? '#d1453b' : 'rgba(42, 100, 200, 0.5)';
    padContext.beginPath();
    padContext.arc(event.x, event.y, event.kind === 'click' ? 8 : 3, 0, 2 * Math.PI);
    padContext.fill();
  });

// Scroll: a token bucket of its own.
fromEvent(feed, 'scroll')
  .pipe(
    tap(() => received('scrolls')),
    naive
      ? identity
      : throttleTokenBucket({ rate: SCROLL_RATE, burst: SCROLL_BURST, mode: 'drop', onDrop: () => dropped('scrolls') }),
  )
  .subscribe(() => delivered('scrolls'));

// Keystrokes: a small lossy queue in front of a slow lookup, keeping the newest keys.
const keyDemand = new Demand();
const lookUp = (key: string): Observable<string> => timer(LOOKUP_MS).pipe(map(() => key));
const lookupQueue: MonoTypeOperatorFunction<string> = naive
  ? concatMap(lookUp)
  : pipe(
      dropOnFull<string>({
        capacity: KEY_QUEUE,
        overflow: 'drop-oldest',
        demand: keyDemand,
        onDrop: () => dropped('keys'),
      }),
      keyDemand.drain(lookUp, { concurrency: 1 }),
    );
fromEvent<KeyboardEvent>(search, 'keydown')
  .pipe(
    tap(() => received('keys')),
    map((event) => event.key),
    lookupQueue,
  )
  .subscribe((key) => {
    delivered('keys');
    lookup.textContent = `${key} (${search.value})`;
  });

/** Writes the tallies into the table cells and the data attributes of #counters. */
function showCounters(): void {
  for (const stream of STREAMS) {
    const { received: r, delivered: d, dropped: x } = tallies[stream];
    const values = { received: r, delivered: d, dropped: x, pending: r - d - x };
    for (const [name, value] of Object.entries(values)) {
      element(`${stream}-${name}`).textContent = String(value);
      counters.setAttribute(`data-${stream}-${name}`, String(value));
    }
  }
  element('moves-admitted').textContent = String(movesAdmitted);
  counters.setAttribute('data-moves-admitted', String(movesAdmitted));
  if (firstMoveAt !== undefined && lastMoveAt !== undefined) {
    counters.setAttribute('data-moves-first-at', String(firstMoveAt));
    counters.setAttribute('data-moves-last-at', String(lastMoveAt));
  }
}

/** Bars of emitted (green) and dropped (red) events for each of the last CHART_SECONDS seconds. */
function drawChart(): void {
  const context = chart.getContext('2d');
  if (context === null) return;
  const { width, height } = chart;
  const base = height - 14;
  context.clearRect(0, 0, width, height);
  const now = Math.floor(asyncScheduler.now() / 1000);
  const seconds = Array.from({ length: CHART_SECONDS }, (_, i) => {
    const second = now - CHART_SECONDS + 1 + i;
    return perSecond.find((entry) => entry.second === second) ?? { second, emitted: 0, dropped: 0 };
  });
  // a log scale: a few emitted events stay visible next to a thousand dropped ones
  const top = Math.max(10, ...seconds.map((s) => Math.max(s.emitted, s.dropped)));
  const scale = (count: number): number => (Math.log10(1 + count) / Math.log10(1 + top)) * (base - 14);
  const slot = width / CHART_SECONDS;
  const bar = (slot - 4) / 2;
  context.font = '10px sans-serif';
  context.fillStyle = '#666';
  context.fillText(`${top}/s (log scale)`, 2, 10);
  context.fillText('now', width - 22, height - 2);
  context.fillText(`-${CHART_SECONDS} s`, 2, height - 2);
  seconds.forEach((s, i) => {
    const x = i * slot + 2;
    context.fillStyle = '#2a9d4b';
    const emitted = scale(s.emitted);
    context.fillRect(x, base - emitted, bar, emitted);
    context.fillStyle = '#d1453b';
    const lost = scale(s.dropped);
    context.fillRect(x + bar, base - lost, bar, lost);
  });
  context.strokeStyle = '#999';
  context.beginPath();
  context.moveTo(0, base + 0.5);
  context.lineTo(width, base + 0.5);
  context.stroke();
}

showCounters();
drawChart();
setInterval(showCounters, 50);
setInterval(drawChart, 250);
