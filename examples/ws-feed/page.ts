/**
 * The browser side of the ws-feed example: one value per animation frame. The drain asks the server for the next value
 * only when the previous one has been painted, so a slow page (or a tab in the background, where the browser stops
 * animation frames) slows the server's generator instead of filling its memory.
 *
 * `?renderMs=N` makes each frame cost N ms of work (a slow device). The counters are the data-* attributes of
 * #counters: data-rendered, data-last-seq, data-lag-ms (server clock to paint), data-state.
 */
import { animationFrames, map, take } from 'rxjs';
import { drain } from 'rxjs-backpressure';
import { requestStream } from 'rxjs-backpressure/ws';

interface Tick {
  seq: number;
  at: number;
  payload: string;
}

const params = new URLSearchParams(location.search);
const renderMs = Number(params.get('renderMs') ?? 0);
const counters = document.getElementById('counters')!;
const view = document.getElementById('tick')!;
let rendered = 0;

function render(tick: Tick): void {
  const until = performance.now() + renderMs;
  while (performance.now() < until) {
    // a slow paint
  }
  rendered++;
  view.textContent = `tick ${tick.seq}`;
  counters.dataset['rendered'] = String(rendered);
  counters.dataset['lastSeq'] = String(tick.seq);
  counters.dataset['lagMs'] = String(Date.now() - tick.at);
}

const socket = new WebSocket(`ws://${location.host}/feed`);
counters.dataset['state'] = 'connecting';
requestStream<Tick>(socket, { feed: 'ticks' })
  .pipe(
    // one value per animation frame: the next one is requested when this frame has painted it
    drain((tick) =>
      animationFrames().pipe(
        take(1),
        map(() => render(tick)),
      ),
    ),
  )
  .subscribe({ error: (e: unknown) => (counters.dataset['state'] = `error: ${String(e)}`) });
socket.addEventListener('open', () => (counters.dataset['state'] = 'open'));
