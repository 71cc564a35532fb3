/**
 * The browser example in a real browser: Debian's chromium driven by playwright-core (never a downloaded browser),
 * the page built with Vite from the library's source and served on 127.0.0.1.
 *
 * A burst of 2000 pointer moves with 20 clicks among them, fast typing and scrolling; then the page's own counters
 * must show the token bucket's bound held, every click delivered, and every event accounted for.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, servePage } from '../../examples/browser/serve.js';
import type { PageServer } from '../../examples/browser/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const MOVES = 2000;
const CLICK_EVERY = 100;

let outDir: string | undefined;
let server: PageServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser test needs Debian's chromium (apt-get install -y chromium); ` +
        'it never downloads a browser',
    );
  }
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

describe('examples/browser in chromium (playwright-core, loopback)', () => {
  it('throttles a burst of 2000 pointer moves to the bucket, delivers every click, and accounts for every event', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 800 } });
    try {
      await page.goto(server!.url);
      await page.waitForSelector('#counters[data-moves-received="0"]');
      const box = await page.locator('#pad').boundingBox();
      if (box === null) throw new Error('#pad is not visible');

      // The burst: every input is sent at once, without waiting for the page to handle the one before (awaiting each
      // would pace the moves at one per frame, not a burst). A zigzag over the pad: every move lands on a new position.
      // A click is a press and release where the pointer is, so it adds no move of its own.
      let clicks = 0;
      const inputs: Promise<void>[] = [];
      const burstStart = Date.now();
      for (let i = 0; i < MOVES; i++) {
        inputs.push(page.mouse.move(box.x + 10 + (i % 400), box.y + 20 + ((i * 7) % 260)));
        if (i % CLICK_EVERY === CLICK_EVERY - 1) {
          inputs.push(page.mouse.down(), page.mouse.up());
          clicks++;
        }
      }
      await Promise.all(inputs);
      const burstMs = Date.now() - burstStart;
      const typed = 'backpressure in the browser';
      await page.locator('#search').click();
      await page.keyboard.type(typed);
      await page.locator('#feed').hover();
      for (let i = 0; i < 20; i++) await page.mouse.wheel(0, 40);

      const result = await settled(page);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'browser.png'), fullPage: true });
      const number = (key: string): number => {
        const value = result[key];
        if (value === undefined || Number.isNaN(value)) throw new Error(`#counters has no data-${key}`);
        return value;
      };
      console.log(`burst of ${MOVES} moves and ${clicks} clicks sent in ${burstMs} ms`);
      console.table({
        moves: {
          sent: MOVES,
          received: number('movesReceived'),
          admitted: number('movesAdmitted'),
          emitted: number('movesDelivered'),
          dropped: number('movesDropped'),
        },
        clicks: {
          sent: clicks,
          received: number('clicksReceived'),
          emitted: number('clicksDelivered'),
          dropped: number('clicksDropped'),
        },
        keys: {
          sent: typed.length,
          received: number('keysReceived'),
          emitted: number('keysDelivered'),
          dropped: number('keysDropped'),
        },
        scrolls: {
          received: number('scrollsReceived'),
          emitted: number('scrollsDelivered'),
          dropped: number('scrollsDropped'),
        },
      });

      // every pointer move reached the page, and each one was emitted or dropped: drops = sent - emitted
      expect(number('movesReceived')).toBe(MOVES);
      expect(number('movesDropped')).toBe(MOVES - number('movesDelivered'));
      // the bucket's bound: burst + rate x the time the moves took (the bucket starts full)
      const seconds = (number('movesLastAt') - number('movesFirstAt')) / 1000;
      const bound = number('moveBurst') + number('moveRate') * (seconds + 0.002); // + the clock's 1 ms steps
      expect(number('movesAdmitted')).toBeLessThanOrEqual(Math.floor(bound));
      expect(number('movesAdmitted')).toBeGreaterThanOrEqual(number('moveBurst'));
      expect(number('movesDelivered')).toBeLessThanOrEqual(number('movesAdmitted'));
      expect(number('movesDelivered')).toBeLessThan(MOVES / 2); // it really did throttle
      // clicks outrank moves in the renderer's queue: every one was delivered
      expect(number('clicksReceived')).toBe(clicks);
      expect(number('clicksDelivered')).toBe(clicks);
      expect(number('clicksDropped')).toBe(0);
      // keystrokes: the lossy queue kept up with what it could and dropped the rest, nothing unaccounted
      expect(number('keysReceived')).toBe(typed.length);
      expect(number('keysDelivered') + number('keysDropped')).toBe(typed.length);
      expect(await page.locator('#lookup').textContent()).toContain(typed); // the newest keys survive
      // scroll: through its own bucket, nothing unaccounted
      expect(number('scrollsReceived')).toBeGreaterThan(0);
      expect(number('scrollsDelivered') + number('scrollsDropped')).toBe(number('scrollsReceived'));
    } finally {
      await page.close();
    }
  }, 60_000);
});
