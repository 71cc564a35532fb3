import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MARBLE_CASES } from '../../spec/cases/index.js';
import { marbleSvgPath, renderMarbleSvg } from './svg.js';

// npm run docs:marbles: writes docs/marbles/<id>.svg for every case in spec/cases, and removes diagrams of cases
// that no longer exist. spec/docs/drift.spec.ts fails when the committed files differ from what this writes.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const folder = join(root, 'docs/marbles');
mkdirSync(folder, { recursive: true });

const written = new Set<string>();
for (const marbleCase of MARBLE_CASES) {
  const path = join(root, marbleSvgPath(marbleCase));
  writeFileSync(path, renderMarbleSvg(marbleCase));
  written.add(path);
}
for (const file of readdirSync(folder)) {
  const path = join(folder, file);
  if (file.endsWith('.svg') && !written.has(path)) {
    rmSync(path);
    console.log(`removed ${file} (no such case)`);
  }
}
console.log(`wrote ${written.size} diagrams to docs/marbles/`);
