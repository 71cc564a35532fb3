/**
 * examples/ws-feed in a real browser: Debian's chromium driven by playwright-core, the page bundled from the built
 * package (dist/, built here first if it is missing or older than src/), the example's Node server on 127.0.0.1 (its
 * 'rxjs-backpressure' imports resolve to dist/ too, as for a user).
 *
 * The page renders one value per animation frame through requestStream + drain; the server's generator must make no
 * more values than the page has rendered, plus the one credit in flight. A page made slow renders fewer frames and
 * the server makes fewer values; a page that gets no animation frames (as a background tab) stops the generator.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/binaries.js';
import type { FeedStats } from '../../examples/ws-feed/feed.js';
import type { FeedServer } from '../../examples/ws-feed/server.js';

const CHROMIUM = requireBinary('chromium');
const root = fileURLToPath(new URL('../../', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** dist/ as the page needs it: built now unless it is there and newer than every file of src/. */
function ensureBuilt(): void {
  const built = ['index.js', 'ws.js'].map((f) => join(root, 'dist', f));
  if (built.every(existsSync) && Math.min(...built.map((f) => statSync(f).mtimeMs)) > newest(join(root, 'src'))) return;
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
}

let server: FeedServer | undefined;
let browser: Browser | undefined;
/** The example's counters (the example imports 'rxjs-backpressure', which resolves to dist/: loaded once it is built). */
let stats: FeedStats;

beforeAll(async () => {
  if (CHROMIUM === undefined) return; // skipped: requireBinary said what to install
  ensureBuilt();
  ({ stats } = await import('../../examples/ws-feed/feed.js'));
  const { startFeedServer } = await import('../../examples/ws-feed/server.js');
  server = await startFeedServer(0, false);
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
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function rendered(page: Page): Promise<number> {
  return Number(await page.$eval('#counters', (element) => (element as HTMLElement).dataset['rendered']));
}

/** Watches the page for `ms`: the server's count is read before the page's, so produced <= rendered + 1 must hold. */
async function watch(page: Page, ms: number): Promise<{ produced: number; rendered: number; worstAhead: number }> {
  const startProduced = stats.producedLast;
  const startRendered = await rendered(page);
  let worstAhead = -Infinity;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const produced = stats.producedLast;
    worstAhead = Math.max(worstAhead, produced - (await rendered(page)));
    await page.waitForTimeout(20);
  }
  return { produced: stats.producedLast - startProduced, rendered: (await rendered(page)) - startRendered, worstAhead };
}

async function open(query = ''): Promise<Page> {
  const page = await browser!.newPage();
  await page.goto(server!.url + query);
  await page.waitForFunction(() => Number(document.getElementById('counters')?.dataset['rendered']) > 10);
  return page;
}

describe.skipIf(CHROMIUM === undefined)('examples/ws-feed in chromium: animation frames pace the Node producer', () => {
  let normal = 0;

  it('the server makes no more values than the page has rendered, plus the one in flight', async () => {
    const page = await open();
    try {
      const seen = await watch(page, 2000);
      console.log('ws-feed, normal page:', seen);
      normal = seen.produced;
      expect(seen.rendered).toBeGreaterThan(20);
      expect(seen.worstAhead).toBeLessThanOrEqual(1);
      // paced by frames (60 a second or so), not by the generator: an unpaced stream makes 10^4s a second
      expect(seen.produced).toBeLessThan(500);
    } finally {
      await page.close();
    }
  }, 30_000);

  it('a slow page (50 ms a frame) slows the server', async () => {
    const page = await open('?renderMs=50');
    try {
      const seen = await watch(page, 2000);
      console.log('ws-feed, slow page:', seen);
      expect(seen.worstAhead).toBeLessThanOrEqual(1);
      expect(seen.produced).toBeLessThan(normal / 2);
      expect(seen.produced).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  }, 30_000);

  it('animation frames withheld (as a background tab gets none) stop the generator; it resumes with them', async () => {
    const page = await open();
    try {
      // the browser runs no animation frame callbacks for a hidden tab and runs them when it is shown again
      await page.evaluate(() => {
        const w = window as unknown as { held: FrameRequestCallback[]; real: typeof requestAnimationFrame };
        w.held = [];
        w.real = window.requestAnimationFrame.bind(window);
        window.requestAnimationFrame = (callback) => (w.held.push(callback), 0);
      });
      await page.waitForTimeout(200); // what was in flight lands
      const before = stats.producedLast;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const whileHidden = stats.producedLast - before;
      await page.evaluate(() => {
        const w = window as unknown as { held: FrameRequestCallback[]; real: typeof requestAnimationFrame };
        window.requestAnimationFrame = w.real;
        for (const callback of w.held.splice(0)) w.real(callback);
      });
      const resumedFrom = stats.producedLast;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      console.log('ws-feed, frames withheld:', { whileHidden, afterResume: stats.producedLast - resumedFrom });
      expect(whileHidden).toBeLessThanOrEqual(1);
      expect(stats.producedLast - resumedFrom).toBeGreaterThan(10);
    } finally {
      await page.close();
    }
  }, 30_000);
});
