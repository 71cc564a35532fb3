import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marbleSvgPath } from '../../scripts/marbles/svg.js';
import { MARBLE_CASES } from '../cases/index.js';
import { requireBinary } from '../helpers/binaries.js';

// Renders every committed diagram in Debian's Chromium, as an <img> would show it, in light and dark color schemes:
// it must load, have the size it declares, and log no error. A full-page screenshot per scheme goes to
// spec/docs/artifacts/marbles.<scheme>.png (gitignored) for a human to look at.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = join(root, 'spec/docs/artifacts');
const CHROMIUM = requireBinary('chromium');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

describe.skipIf(CHROMIUM === undefined)('marble diagrams render in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ARGS });
    mkdirSync(artifacts, { recursive: true });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`every diagram loads as an image with its declared size and no errors (${scheme})`, async () => {
      const page = await browser.newPage({ colorScheme: scheme, deviceScaleFactor: 1 });
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('requestfailed', (request) => problems.push(`request failed: ${request.url().slice(0, 80)}`));
      try {
        // one page with every diagram, as the README shows them: one load, one screenshot
        const declared = MARBLE_CASES.map((marbleCase) => {
          const svg = readFileSync(join(root, marbleSvgPath(marbleCase)), 'utf8');
          const size = /^<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg);
          return { id: marbleCase.id, svg, width: Number(size?.[1]), height: Number(size?.[2]) };
        });
        const background = scheme === 'dark' ? '#0d1117' : '#ffffff';
        const images = declared
          .map((d) => `<p><img id="${d.id}" src="data:image/svg+xml;base64,${Buffer.from(d.svg).toString('base64')}"></p>`)
          .join('');
        await page.setContent(`<body style="margin:8px;background:${background}">${images}</body>`);
        const rendered = await page.$$eval('img', (imgs: HTMLImageElement[]) =>
          Promise.all(
            imgs.map(async (img) => {
              await img.decode();
              return { id: img.id, width: img.naturalWidth, height: img.naturalHeight };
            }),
          ),
        );
        expect(rendered).toEqual(declared.map(({ id, width, height }) => ({ id, width, height })));
        for (const { width, height } of rendered) expect(width * height).toBeGreaterThan(0);
        writeFileSync(join(artifacts, `marbles.${scheme}.png`), await page.screenshot({ fullPage: true }));
      } finally {
        await page.close();
      }
      expect(problems).toEqual([]);
    }, 60_000);
  }
});
