import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marbleSvgPath } from '../../scripts/marbles/svg.js';
import { CASES } from '../cases/index.js';

// Renders every committed diagram in Debian's Chromium, as an <img> would show it, in light and dark color schemes:
// it must load, have the size it declares, and log no error. Screenshots go to spec/docs/artifacts/ (gitignored) for
// a human to look at.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = join(root, 'spec/docs/artifacts');
const CHROMIUM = '/usr/bin/chromium';
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

describe('marble diagrams render in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
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
      try {
        for (const marbleCase of CASES) {
          const svg = readFileSync(join(root, marbleSvgPath(marbleCase)), 'utf8');
          const declared = /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg);
          expect(declared, marbleCase.id).not.toBeNull();
          const src = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
          const background = scheme === 'dark' ? '#0d1117' : '#ffffff';
          await page.setContent(
            `<body style="margin:0;background:${background}"><img id="diagram" src="${src}"></body>`,
          );
          const size = await page.$eval('#diagram', async (img: HTMLImageElement) => {
            await img.decode();
            return { width: img.naturalWidth, height: img.naturalHeight };
          });
          expect(size, marbleCase.id).toEqual({ width: Number(declared?.[1]), height: Number(declared?.[2]) });
          expect(size.width).toBeGreaterThan(0);
          expect(size.height).toBeGreaterThan(0);
          const png = await page.locator('#diagram').screenshot();
          writeFileSync(join(artifacts, `${marbleCase.id}.${scheme}.png`), png);
        }
      } finally {
        await page.close();
      }
      expect(problems).toEqual([]);
    }, 60_000);
  }
});
