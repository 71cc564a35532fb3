/**
 * The browser example in a real browser: Debian's chromium driven by playwright-core (never a downloaded browser),
 * the page built with Vite against the package as it ships (tsup into dist/, resolved through its package.json) and
 * served on 127.0.0.1.
 *
 * A burst of 2000 pointer moves with 20 clicks among them, fast typing and scrolling; then the page's own counters
 * must show the token bucket's bound held, every click delivered, and every event accounted for.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, servePage } from '../../examples/browser/serve.js';
import type { PageServer } from '../../examples/browser/serve.js';
import { requireBinary } from '../helpers/binaries.js';

const CHROMIUM = requireBinary('chromium');
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const MOVES = 2000;
const CLICK_EVERY = 100;

let outDir: string | undefined;
let server: PageServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (CHROMIUM === undefined) return; // skipped: requireBinary said what to install
  outDir = await mkdtemp(join(tmpdir(), 'rxjs-backpressure-browser-'));
  server = await servePage(await buildPage(outDir), 0);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
});

/** Every `data-*` attribute of #counters, as numbers (camelCased like `dataset`). */
async function counters(page: Page): Promise<Record<string, number>> {
  return page.$eval('#counters', (element) =>
    Object.fromEntries(Object.entries((element as HTMLElement).dataset).map(([key, value]) => [key, Number(value)])),
  );
}

/** Waits (polling the page) until nothing is queued or in flight in any of the page's pipelines. */
async function settled(page: Page): Promise<Record<string, number>> {
  await page.waitForFunction(() => {
    const data = document.getElementById('counters')?.dataset ?? {};
    return ['moves', 'clicks', 'scrolls', 'keys'].every((stream) => data[`${stream}Pending`] === '0');
  });
  // the page writes its counters every 50 ms: read them once more after a write has surely happened
  await page.waitForTimeout(120);
  return counters(page);
}

const TYPED = 'backpressure in the browser';

/** What the test sent to a page. */
interface Sent {
  clicks: number;
  burstMs: number;
}

/**
 * Opens the page and sends the burst: 2000 pointer moves with a click every 100, all at once, without waiting for the
 * page to handle one before the next (awaiting each would pace the moves at one per frame, not a burst); a zigzag over
 * the pad, so every move lands on a new position; a click is a press and release where the pointer is, so it adds no
 * move of its own. Then fast typing in the search box and 20 wheel turns over the feed.
 */
async function burst(page: Page, query = ''): Promise<Sent> {
  await page.goto(server!.url + query);
  await page.waitForSelector('#counters[data-moves-received="0"]');
  const box = await page.locator('#pad').boundingBox();
  if (box === null) throw new Error('#pad is not visible');
  let clicks = 0;
  const inputs: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; i < MOVES; i++) {
    inputs.push(page.mouse.move(box.x + 10 + (i % 400), box.y + 20 + ((i * 7) % 260)));
    if (i % CLICK_EVERY === CLICK_EVERY - 1) {
      inputs.push(page.mouse.down(), page.mouse.up());
      clicks++;
    }
  }
  await Promise.all(inputs);
  const burstMs = Date.now() - started;
  await page.locator('#search').click();
  await page.keyboard.type(TYPED);
  await page.locator('#feed').hover();
  for (let i = 0; i < 20; i++) await page.mouse.wheel(0, 40);
  return { clicks, burstMs };
}

/** Reads one counter; throws if the page does not have it. */
function reader(result: Record<string, number>): (key: string) => number {
  return (key) => {
    const value = result[key];
    if (value === undefined || Number.isNaN(value)) throw new Error(`#counters has no data-${key}`);
    return value;
  };
}

function show(mode: string, sent: Sent, number: (key: string) => number): void {
  console.log(`${mode}: a burst of ${MOVES} moves and ${sent.clicks} clicks, sent in ${sent.burstMs} ms`);
  const row = (stream: string, count?: number): Record<string, number | undefined> => ({
    sent: count,
    received: number(`${stream}Received`),
    emitted: number(`${stream}Delivered`),
    dropped: number(`${stream}Dropped`),
    queued: number(`${stream}Pending`),
  });
  console.table({
    moves: { ...row('moves', MOVES), 'through bucket': number('movesAdmitted') },
    clicks: row('clicks', sent.clicks),
    keys: row('keys', TYPED.length),
    scrolls: row('scrolls'),
  });
}

/** The token bucket's bound on admitted moves: burst + rate x the time the moves took (the bucket starts full). */
function bucketBound(number: (key: string) => number): number {
  const seconds = (number('movesLastAt') - number('movesFirstAt')) / 1000;
  return Math.floor(number('moveBurst') + number('moveRate') * (seconds + 0.002)); // + the clock's 1 ms steps
}

describe.skipIf(CHROMIUM === undefined)('examples/browser in chromium (playwright-core, loopback)', () => {
  it('throttles a burst of 2000 pointer moves to the bucket, delivers every click, and accounts for every event', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 800 } });
    try {
      const sent = await burst(page);
      const number = reader(await settled(page));
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'browser.png'), fullPage: true });
      show('with backpressure', sent, number);

      expect(await page.locator('#counters').getAttribute('data-mode')).toBe('backpressure');
      // every pointer move reached the page, and each one was emitted or dropped: drops = sent - emitted
      expect(number('movesReceived')).toBe(MOVES);
      expect(number('movesDropped')).toBe(MOVES - number('movesDelivered'));
      // the bucket's bound held
      expect(number('movesAdmitted')).toBeLessThanOrEqual(bucketBound(number));
      expect(number('movesAdmitted')).toBeGreaterThanOrEqual(number('moveBurst'));
      expect(number('movesDelivered')).toBeLessThanOrEqual(number('movesAdmitted'));
      expect(number('movesDelivered')).toBeLessThan(MOVES / 2); // it really did throttle
      // clicks outrank moves in the renderer's queue: with fewer clicks than its capacity, a click that finds it full
      // always has a move to evict, however late the renderer runs, so every click was delivered
      expect(sent.clicks).toBeLessThanOrEqual(number('padQueue'));
      expect(number('clicksReceived')).toBe(sent.clicks);
      expect(number('clicksDelivered')).toBe(sent.clicks);
      expect(number('clicksDropped')).toBe(0);
      // keystrokes: the lossy queue handled what it could and dropped the rest, nothing unaccounted
      expect(number('keysReceived')).toBe(TYPED.length);
      expect(number('keysDelivered') + number('keysDropped')).toBe(TYPED.length);
      expect(await page.locator('#lookup').textContent()).toContain(TYPED); // the newest keys survive
      // scroll: through its own bucket, nothing unaccounted
      expect(number('scrollsReceived')).toBeGreaterThan(0);
      expect(number('scrollsDelivered') + number('scrollsDropped')).toBe(number('scrollsReceived'));
    } finally {
      await page.close();
    }
  }, 60_000);

  it('without backpressure (?naive) the same burst breaks the bound, and clicks wait behind the pointer noise', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 800 } });
    try {
      const sent = await burst(page, '?naive');
      await page.waitForTimeout(120); // one write of the counters after the burst, then read: no waiting for the backlog
      const number = reader(await counters(page));
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'browser-naive.png'), fullPage: true });
      show('naive', sent, number);

      expect(await page.locator('#counters').getAttribute('data-mode')).toBe('naive');
      expect(number('movesReceived')).toBe(MOVES);
      // the checks the page with backpressure passes fail here:
      expect(number('movesAdmitted')).toBeGreaterThan(bucketBound(number)); // no bound on admitted moves
      expect(number('movesDropped')).toBe(0); // nothing dropped...
      expect(number('movesPending')).toBeGreaterThan(10 * number('moveBurst')); // ...so the backlog is unbounded
      expect(number('clicksDelivered')).toBeLessThan(sent.clicks); // and clicks are stuck behind it
    } finally {
      await page.close();
    }
  }, 60_000);
});
