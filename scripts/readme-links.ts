// The README as published: `npm pack`, then every link and image of the packed README must resolve. A relative link
// must name a file inside the tarball (the registry page has nothing else); an absolute link to this repository
// (github.com/<repo>/blob|tree|raw/main/..., raw.githubusercontent.com/<repo>/main/...) must name a file that exists
// in the repository, and a #fragment must name a heading of the page it points to. Other absolute URLs are listed,
// not fetched (no network in CI).
//
//   npx tsx scripts/readme-links.ts          exits 1 and lists every broken link
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY = 'rxjs-backpressure/rxjs-backpressure';
export const BRANCH = 'main';

export interface Link {
  readonly url: string;
  /** 1-based line of the README. */
  readonly line: number;
  readonly image: boolean;
}

export interface LinkReport {
  readonly checked: number;
  readonly broken: readonly string[];
  /** Absolute URLs outside this repository, not checked. */
  readonly external: readonly string[];
}

/** What the check may look at: the files of the tarball, and the files and pages of the repository. */
export interface LinkContext {
  /** Paths inside the tarball, relative to its `package/` folder. */
  readonly packed: ReadonlySet<string>;
  /** Reads a packed file (for fragments of packed pages); undefined if not packed. */
  readonly readPacked: (path: string) => string | undefined;
  /** Reads a file of the repository; undefined if it does not exist there. */
  readonly readRepo: (path: string) => string | undefined;
}

/** Links and images of a markdown text, outside code blocks and code spans: `[t](u)`, `![a](u)`, `[t]: u`, `<img src>`, `<a href>`. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  let fenced = false;
  markdown.split('\n').forEach((raw, index) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const text = raw.replace(/`[^`]*`/g, (span) => ' '.repeat(span.length));
    const line = index + 1;
    for (const m of text.matchAll(/(!?)\[[^\]]*\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ url: m[2] ?? '', line, image: m[1] === '!' });
    }
    const reference = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(text);
    if (reference !== null) links.push({ url: reference[1] ?? '', line, image: false });
    for (const m of text.matchAll(/<(img|a)\s[^>]*?(src|href)\s*=\s*["']([^"']+)["']/gi)) {
      links.push({ url: m[3] ?? '', line, image: (m[1] ?? '').toLowerCase() === 'img' });
    }
  });
  return links;
}

/** The anchors GitHub gives the headings of a markdown page (github-slugger: lower case, punctuation dropped). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const raw of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(raw)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (heading === null) continue;
    const text = (heading[1] ?? '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading counts by its text
      .replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const OURS = [
  new RegExp(`^https://github\\.com/${REPOSITORY}/(?:blob|tree|raw)/([^/]+)/([^?#]*)(?:\\?[^#]*)?(?:#(.*))?$`),
  new RegExp(`^https://raw\\.githubusercontent\\.com/${REPOSITORY}/([^/]+)/([^?#]*)(?:\\?[^#]*)?(?:#(.*))?$`),
];
const REPO_PAGES = new RegExp(
  `^https://github\\.com/${REPOSITORY}(?:/(?:issues|pulls|releases|actions)\\S*)?/?(?:#.*)?$`,
);

/** Checks the links of a README (named `README.md` at the tarball's root) against the tarball and the repository. */
export function checkLinks(readme: string, context: LinkContext): LinkReport {
  const broken: string[] = [];
  const external: string[] = [];
  const links = linksOf(readme);
  const anchorsCache = new Map<string, Set<string> | undefined>();
  const anchors = (key: string, read: () => string | undefined) => {
    if (!anchorsCache.has(key)) {
      const text = read();
      anchorsCache.set(key, text === undefined ? undefined : anchorsOf(text));
    }
    return anchorsCache.get(key);
  };
  const fragment = (where: string, page: string, hash: string | undefined, read: () => string | undefined) => {
    if (hash === undefined || hash === '' || !page.endsWith('.md')) return;
    const found = anchors(where, read);
    if (found !== undefined && !found.has(decodeURIComponent(hash).toLowerCase())) {
      return `#${hash} is not a heading of ${page}`;
    }
  };

  for (const link of links) {
    const at = `README.md:${link.line}: ${link.image ? 'image' : 'link'} ${link.url}`;
    const { url } = link;
    if (url.startsWith('#')) {
      const problem = fragment('packed:README.md', 'README.md', url.slice(1), () => readme);
      if (problem !== undefined) broken.push(`${at}: ${problem}`);
      continue;
    }
    if (/^mailto:/i.test(url)) continue;
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      const ours = OURS.map((re) => re.exec(url)).find((m) => m !== null);
      if (ours === undefined || ours === null) {
        if (url.includes(`github.com/${REPOSITORY}`) && !REPO_PAGES.test(url)) {
          broken.push(`${at}: a link into ${REPOSITORY} that names no file (use /blob/${BRANCH}/<path>)`);
        } else if (!REPO_PAGES.test(url) && !url.includes(`githubusercontent.com/${REPOSITORY}/`)) {
          external.push(url);
        } else if (!REPO_PAGES.test(url)) {
          broken.push(`${at}: a raw link into ${REPOSITORY} that names no file`);
        }
        continue;
      }
      const [, branch = '', rawPath = '', hash] = ours;
      const path = decodeURIComponent(rawPath).replace(/\/$/, '');
      if (branch !== BRANCH) {
        broken.push(`${at}: points at branch ${branch}, not ${BRANCH}`);
        continue;
      }
      if (context.readRepo(path) === undefined) {
        broken.push(`${at}: ${path} does not exist in the repository`);
        continue;
      }
      const problem = fragment(`repo:${path}`, path, hash, () => context.readRepo(path));
      if (problem !== undefined) broken.push(`${at}: ${problem}`);
      continue;
    }
    // relative: resolved from the README at the tarball's root
    const [rawPath = '', hash] = url.split('#', 2);
    const path = posix
      .normalize(decodeURIComponent(rawPath.split('?')[0] ?? ''))
      .replace(/^\.\//, '')
      .replace(/\/$/, '');
    if (path.startsWith('..')) {
      broken.push(`${at}: points outside the package`);
      continue;
    }
    const isFolder = [...context.packed].some((file) => file.startsWith(`${path}/`));
    if (!context.packed.has(path) && !isFolder) {
      broken.push(`${at}: ${path} is not in the npm tarball (make the link absolute, or ship the file)`);
      continue;
    }
    const problem = fragment(`packed:${path}`, path, hash, () => context.readPacked(path));
    if (problem !== undefined) broken.push(`${at}: ${problem}`);
  }
  return { checked: links.length, broken, external: [...new Set(external)].sort() };
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(dir, posix.join(prefix, entry.name)) : [posix.join(prefix, entry.name)],
  );
}

/** Packs the package in `root` (`npm pack`), unpacks it in a temporary folder, and checks the packed README. */
export function checkPackedReadme(root: string): LinkReport & { readonly tarball: string } {
  const work = mkdtempSync(join(tmpdir(), 'readme-links-'));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [{ filename }] = JSON.parse(out) as [{ filename: string }];
    const tarball = join(work, filename);
    execFileSync('tar', ['-xzf', tarball, '-C', work]);
    const unpacked = join(work, 'package');
    const packed = new Set(filesUnder(unpacked));
    const readme = readFileSync(join(unpacked, 'README.md'), 'utf8');
    const tracked = gitFiles(root);
    const report = checkLinks(readme, {
      packed,
      readPacked: (path) => (packed.has(path) ? readFileSync(join(unpacked, path), 'utf8') : undefined),
      readRepo: (path) => readRepoFile(root, tracked, path),
    });
    return { ...report, tarball: filename };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The files git tracks, or undefined outside a git checkout (then the working tree counts). */
function gitFiles(root: string): Set<string> | undefined {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    return new Set(out.split('\0').filter((f) => f !== ''));
  } catch {
    return undefined;
  }
}

function readRepoFile(root: string, tracked: Set<string> | undefined, path: string): string | undefined {
  const full = normalize(join(root, path));
  if (!full.startsWith(root)) return undefined;
  if (tracked !== undefined) {
    const isFile = tracked.has(path);
    const isFolder = path === '' || [...tracked].some((file) => file.startsWith(`${path}/`));
    if (!isFile && !isFolder) return undefined;
    return isFile && existsSync(full) ? readFileSync(full, 'utf8') : '';
  }
  if (!existsSync(full)) return undefined;
  try {
    return readFileSync(full, 'utf8');
  } catch {
    return ''; // a folder
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const report = checkPackedReadme(root);
  console.log(
    `${report.tarball}: ${report.checked} links and images in the packed README, ${report.broken.length} broken; ` +
      `${report.external.length} external, not fetched: ${report.external.join(' ') || 'none'}`,
  );
  for (const problem of report.broken) console.error(`  ${problem}`);
  process.exitCode = report.broken.length === 0 ? 0 : 1;
}
