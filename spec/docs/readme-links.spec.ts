import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorsOf, checkLinks, checkPackedReadme, linksOf } from '../../scripts/readme-links.js';
import type { LinkContext } from '../../scripts/readme-links.js';

// The README as the npm registry shows it: packed with `npm pack`, read from the tarball. Every link and image must
// resolve (relative ones inside the tarball, absolute ones to a file of the repository, fragments to a heading).
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = 'https://github.com/rxjs-backpressure/rxjs-backpressure';
const RAW = 'https://raw.githubusercontent.com/rxjs-backpressure/rxjs-backpressure';

describe('the packed README', () => {
  it('has only links and images that resolve', () => {
    const report = checkPackedReadme(root);
    expect(report.broken).toEqual([]);
    expect(report.checked).toBeGreaterThan(20);
  }, 60_000);
});

describe('the link check can fail', () => {
  const repo: Record<string, string> = {
    'docs/reference.md': '# Reference\n\n## dropOnFull\n\n## dropOnFull\n',
    'docs/marbles/pull.svg': '<svg/>',
    'examples/http-server/index.ts': '',
  };
  const packedFiles: Record<string, string> = { 'README.md': '', 'src/index.ts': '', 'dist/index.js': '' };
  const context: LinkContext = {
    packed: new Set(Object.keys(packedFiles)),
    readPacked: (path) => packedFiles[path],
    readRepo: (path) => repo[path] ?? (Object.keys(repo).some((f) => f.startsWith(`${path}/`)) ? '' : undefined),
  };
  const check = (markdown: string) => checkLinks(`# Title\n\n## Install it\n\n${markdown}\n`, context).broken;

  it('accepts what resolves', () => {
    expect(
      check(
        [
          '[install](#install-it) [src](src/index.ts) [dist](./dist/index.js)',
          `[ref](${REPO}/blob/main/docs/reference.md#dropOnFull-1) [folder](${REPO}/tree/main/examples/http-server)`,
          `![pull](${RAW}/main/docs/marbles/pull.svg) [issues](${REPO}/issues) [repo](${REPO})`,
          '[rxjs](https://rxjs.dev/guide/overview)',
          '```md\n[in a code block](docs/missing.md)\n```',
          'and `[in a code span](docs/missing.md)`',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('rejects a relative link or image to a file the tarball does not ship', () => {
    expect(check('[strategies](docs/strategies.md)\n![pull](docs/marbles/pull.svg)')).toEqual([
      'README.md:5: link docs/strategies.md: docs/strategies.md is not in the npm tarball (make the link absolute, or ship the file)',
      'README.md:6: image docs/marbles/pull.svg: docs/marbles/pull.svg is not in the npm tarball (make the link absolute, or ship the file)',
    ]);
  });

  it('rejects an absolute link to a file the repository does not have, or on another branch', () => {
    expect(check(`[gone](${REPO}/blob/main/docs/gone.md)`)).toEqual([
      `README.md:5: link ${REPO}/blob/main/docs/gone.md: docs/gone.md does not exist in the repository`,
    ]);
    expect(check(`![img](${RAW}/main/docs/marbles/push.svg)`)).toHaveLength(1);
    expect(check(`[old](${REPO}/blob/v0/docs/reference.md)`)).toEqual([
      `README.md:5: link ${REPO}/blob/v0/docs/reference.md: points at branch v0, not main`,
    ]);
  });

  it('rejects a fragment that is not a heading, in the README or in the page linked', () => {
    expect(check('[x](#installation)')).toEqual(['README.md:5: link #installation: #installation is not a heading of README.md']);
    expect(check(`[x](${REPO}/blob/main/docs/reference.md#droponfull-2)`)).toEqual([
      `README.md:5: link ${REPO}/blob/main/docs/reference.md#droponfull-2: #droponfull-2 is not a heading of docs/reference.md`,
    ]);
  });

  it('rejects a link that leaves the package', () => {
    expect(check('[up](../README.md)')).toEqual(['README.md:5: link ../README.md: points outside the package']);
  });
});

describe('links and anchors are read as GitHub reads them', () => {
  it('finds inline links, images, reference definitions and HTML, not code', () => {
    const urls = linksOf('[a](x.md) ![b](y.svg "t")\n[c]: z.md\n<img src="w.png"> `[d](no.md)`\n```\n[e](no.md)\n```')
      .map((l) => `${l.line}:${l.image ? 'img' : 'a'}:${l.url}`);
    expect(urls).toEqual(['1:a:x.md', '1:img:y.svg', '2:a:z.md', '3:img:w.png']);
  });

  it('slugs headings like github-slugger', () => {
    expect([
      ...anchorsOf(
        '### shedByPriority: priority load shedding\n## A shared bucket: `store` and `rxjs-backpressure/redis`\n## Examples\n## Examples\n```\n# not a heading\n```',
      ),
    ]).toEqual([
      'shedbypriority-priority-load-shedding',
      'a-shared-bucket-store-and-rxjs-backpressureredis',
      'examples',
      'examples-1',
    ]);
  });
});
