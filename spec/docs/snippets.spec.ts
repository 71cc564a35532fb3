import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

// Every ```ts block of README.md, every docs/*.md page and the JSDoc `## Example`s under src/ is typechecked against the
// library's source, with the repo's strictness. Free placeholders of a snippet (`requests$`, `save`, `Job`) are found
// in a first pass ("Cannot find name") and declared as `any` (a name ending in `$` as `Observable<any>`); in the
// second pass every diagnostic is a failure, except an implicit any that only a placeholder's `any` caused (logged).
// A placeholder that the library or rxjs exports is a failure too (the snippet uses it without importing it), and so
// is one that looks like a typo of a name the snippet declares. A block whose first line is
// `// snippet: not compiled` is skipped (and listed in the log).
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OPT_OUT = '// snippet: not compiled';

interface Snippet {
  /** `README.md:85`: the doc file and the line of the snippet's first code line. */
  readonly id: string;
  /** Virtual file name, next to the doc so a relative import resolves as it would from the doc. */
  readonly fileName: string;
  readonly code: string;
  readonly line: number;
}

function markdownSnippets(doc: string): Snippet[] {
  return fencedBlocks(doc, (line) => line);
}

function jsdocSnippets(doc: string): Snippet[] {
  // Only lines of a JSDoc comment (` * ...`); the leading ` * ` is the comment's, not the snippet's.
  return fencedBlocks(doc, (line) => (/^\s*\*( |$)/.test(line) ? line.replace(/^\s*\* ?/, '') : undefined));
}

function fencedBlocks(doc: string, unwrap: (line: string) => string | undefined): Snippet[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  let open: { line: number; code: string[]; ts: boolean } | undefined;
  lines.forEach((raw, index) => {
    const text = unwrap(raw);
    if (text === undefined) {
      open = undefined;
      return;
    }
    const fence = /^```(\S*)\s*$/.exec(text.trimStart());
    if (open === undefined) {
      if (fence !== null) open = { line: index + 2, code: [], ts: fence[1] === 'ts' };
      return;
    }
    if (fence === null || fence[1] !== '') {
      open.code.push(text);
      return;
    }
    if (open.ts && open.code[0]?.trim() !== OPT_OUT) {
      const id = `${doc}:${open.line}`;
      const fileName = join(root, dirname(doc), `${doc.replace(/\W/g, '_')}_L${open.line}.snippet.ts`);
      snippets.push({ id, fileName, code: open.code.join('\n'), line: open.line });
    }
    open = undefined;
  });
  return snippets;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

function optedOut(docs: readonly string[], jsdoc: readonly string[]): string[] {
  const marked: string[] = [];
  for (const doc of [...docs, ...jsdoc]) {
    const lines = readFileSync(join(root, doc), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/```ts\s*$/.test(line) && (lines[i + 1] ?? '').includes(OPT_OUT)) marked.push(`${doc}:${i + 2}`);
    });
  }
  return marked;
}

// The README and every page under docs/ (the reference material moved out of the README lives there).
const DOCS = readdirSync(join(root, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .sort()
  .map((name) => `docs/${name}`);
const MARKDOWN = ['README.md', ...DOCS];
const JSDOC = sourceFiles('src').sort();
const pages = MARKDOWN.map((doc): [string, Snippet[]] => [doc, markdownSnippets(doc)]);
const markdown = pages.flatMap(([, snippets]) => snippets);
const examples = JSDOC.flatMap(jsdocSnippets);
// Pages without a ts block (prose and tables): listed, so a page that loses its snippets shows.
const WITHOUT_SNIPPETS = new Set(['docs/choices.md', 'docs/performance.md']);

// Deliberately wrong snippets: they prove each rule can fail.
const selfTests = {
  misspelledOption: "import { dropOnFull } from 'rxjs-backpressure';\nticks$.pipe(dropOnFull({ capacty: 1 }));",
  missingExport: "import { dropOnFul } from 'rxjs-backpressure';\nticks$.pipe(dropOnFul({ capacity: 1 }));",
  notImported: "import { Subject } from 'rxjs';\nnew Subject<number>().pipe(dropOnFull({ capacity: 1 }));",
  localTypo: "import { Demand } from 'rxjs-backpressure';\nconst demand = new Demand();\ndemnd.request(1);",
  wrongType: "import { Demand } from 'rxjs-backpressure';\nnew Demand().request('1');",
  stringIndex: "const rank = { a: 1 } as const;\nexport const pick = (key: string) => rank[key] ?? fallback;",
  placeholdersOnly: "import { dropOnFull } from 'rxjs-backpressure';\nticks$.pipe(dropOnFull({ capacity: 1 })).subscribe(log);",
};
const selfTestSnippets: Snippet[] = Object.entries(selfTests).map(([name, code]) => ({
  id: `self-test:${name}`,
  fileName: join(root, `__self_test_${name}.snippet.ts`),
  code,
  line: 1,
}));

function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return {
    ...options,
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    target: ts.ScriptTarget.ES2022, // top-level await in examples
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: ['node'],
    baseUrl: root,
    paths: {
      'rxjs-backpressure': ['./src/index.ts'],
      'rxjs-backpressure/prometheus': ['./src/prometheus/index.ts'],
      'rxjs-backpressure/redis': ['./src/redis/index.ts'],
      'rxjs-backpressure/testing': ['./src/testing/index.ts'],
    },
    noEmit: true,
    incremental: false,
  };
}

// Diagnostics that mean "this name is not declared": 2304 Cannot find name; 2552 ... Did you mean; 2580-2593 ...
// Do you need to install type definitions; 18004 no value in scope for the shorthand property.
const NOT_FOUND = new Set([2304, 2552, 2580, 2581, 2582, 2583, 2584, 2591, 2592, 2593, 18004]);
const EXPORTS_PROBE = join(root, '__exports_probe.snippet.ts');
const PROBED = [
  'rxjs-backpressure',
  'rxjs-backpressure/prometheus',
  'rxjs-backpressure/redis',
  'rxjs-backpressure/testing',
  'rxjs',
];

interface Checked {
  readonly placeholders: readonly string[];
  readonly problems: readonly string[];
  /** Implicit-any diagnostics that only a placeholder's `any` caused. */
  readonly tolerated: readonly string[];
}

function typecheck(snippets: readonly Snippet[]): Map<string, Checked> {
  const options = compilerOptions();
  const virtual = new Map<string, string>();
  const host = ts.createCompilerHost(options, true);
  const cache = new Map<string, ts.SourceFile | undefined>();
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError) => {
    const text = virtual.get(fileName);
    if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
    if (!cache.has(fileName)) cache.set(fileName, getSourceFile(fileName, languageVersion, onError));
    return cache.get(fileName);
  };
  const { fileExists, readFile } = host;
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile.call(host, fileName);

  // `export {}` keeps each snippet a module, so snippets never see each other's names.
  const render = (snippet: Snippet, declarations: string) => `${declarations}\n${snippet.code}\nexport {};\n`;
  virtual.set(EXPORTS_PROBE, PROBED.map((m, i) => `import * as m${i} from '${m}';\n`).join('') + 'export {};\n');
  for (const snippet of snippets) virtual.set(snippet.fileName, render(snippet, ''));
  const rootNames = [EXPORTS_PROBE, ...snippets.map((s) => s.fileName)];
  const first = ts.createProgram(rootNames, options, host);

  const checker = first.getTypeChecker();
  const probe = first.getSourceFile(EXPORTS_PROBE);
  const exported = new Map<string, string>();
  for (const statement of probe?.statements ?? []) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const moduleSymbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
    if (moduleSymbol === undefined) throw new Error(`cannot resolve ${statement.moduleSpecifier.text}`);
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      if (!exported.has(symbol.name)) exported.set(symbol.name, statement.moduleSpecifier.text);
    }
  }
  if (!exported.has('dropOnFull') || !exported.has('Observable')) throw new Error('export probe found no exports');

  const found = new Map<string, { placeholders: Set<string>; problems: string[] }>();
  for (const snippet of snippets) {
    const file = first.getSourceFile(snippet.fileName);
    if (file === undefined) throw new Error(`${snippet.id}: not in the program`);
    const placeholders = new Set<string>();
    const problems: string[] = [];
    for (const diagnostic of [...first.getSyntacticDiagnostics(file), ...first.getSemanticDiagnostics(file)]) {
      if (!NOT_FOUND.has(diagnostic.code) || diagnostic.start === undefined) continue;
      const name = file.text.slice(diagnostic.start, diagnostic.start + (diagnostic.length ?? 0));
      const source = exported.get(name);
      const typoOf = source === undefined ? nearMiss(name, ownNames(file), libraryNames(exported)) : undefined;
      if (source !== undefined) problems.push(`${snippet.id}: uses ${name} without importing it from '${source}'`);
      else if (typoOf !== undefined) problems.push(`${format(snippet, diagnostic)} (a typo of ${typoOf}?)`);
      placeholders.add(name); // declared anyway, so one mistake is one message
    }
    found.set(snippet.id, { placeholders, problems });
  }

  const declare = (name: string) =>
    name.endsWith('$')
      ? `declare const ${name}: import('rxjs').Observable<any>;`
      : `declare const ${name}: any; type ${name} = any;`;
  for (const snippet of snippets) {
    const placeholders = [...(found.get(snippet.id)?.placeholders ?? [])];
    virtual.set(snippet.fileName, render(snippet, placeholders.map(declare).join(' ')));
  }
  const second = ts.createProgram(rootNames, options, host, first);

  const results = new Map<string, Checked>();
  const checker2 = second.getTypeChecker();
  for (const snippet of snippets) {
    const file = second.getSourceFile(snippet.fileName);
    const firstPass = found.get(snippet.id);
    if (file === undefined || firstPass === undefined) throw new Error(`${snippet.id}: not in the program`);
    const diagnostics = [...second.getSyntacticDiagnostics(file), ...second.getSemanticDiagnostics(file)];
    const tolerated = diagnostics.filter(
      (d) => firstPass.placeholders.size > 0 && implicitAnyFromPlaceholder(d, file, checker2),
    );
    results.set(snippet.id, {
      placeholders: [...firstPass.placeholders].sort(),
      problems: [
        ...firstPass.problems,
        ...diagnostics.filter((d) => !tolerated.includes(d)).map((d) => format(snippet, d)),
      ],
      tolerated: tolerated.map((d) => format(snippet, d)),
    });
  }
  return results;
}

/**
 * A placeholder is `any`, and strict mode then reports what a real type would not: indexing with an `any` key
 * (7053), or a callback parameter without a type because the function it is passed to is a placeholder (7006, 7031).
 */
function implicitAnyFromPlaceholder(diagnostic: ts.Diagnostic, file: ts.SourceFile, checker: ts.TypeChecker): boolean {
  if (diagnostic.start === undefined) return false;
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (diagnostic.code === 7053) return message.includes("because expression of type 'any' can't be used to index");
  if (diagnostic.code !== 7006 && diagnostic.code !== 7031) return false;
  let node: ts.Node | undefined = nodeAt(file, diagnostic.start);
  while (node !== undefined && !ts.isArrowFunction(node) && !ts.isFunctionExpression(node)) node = node.parent;
  const call = node?.parent;
  return (
    node !== undefined &&
    call !== undefined &&
    ts.isCallExpression(call) &&
    call.arguments.some((argument) => argument === node) &&
    (checker.getTypeAtLocation(call.expression).flags & ts.TypeFlags.Any) !== 0
  );
}

function nodeAt(file: ts.SourceFile, position: number): ts.Node {
  let node: ts.Node = file;
  for (;;) {
    const child: ts.Node | undefined = node.forEachChild((c) =>
      c.getStart(file) <= position && position < c.getEnd() ? c : undefined,
    );
    if (child === undefined) return node;
    node = child;
  }
}

/** Names the snippet itself declares or imports. */
function ownNames(file: ts.SourceFile): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && isDeclarationName(node)) names.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return names;
}

function isDeclarationName(node: ts.Identifier): boolean {
  const { parent } = node;
  return (
    (ts.isVariableDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isClassDeclaration(parent) ||
      ts.isInterfaceDeclaration(parent) ||
      ts.isTypeAliasDeclaration(parent) ||
      ts.isImportSpecifier(parent) ||
      ts.isImportClause(parent) ||
      ts.isNamespaceImport(parent) ||
      ts.isBindingElement(parent)) &&
    parent.name === node
  );
}

function libraryNames(exported: ReadonlyMap<string, string>): string[] {
  // the testing entry's names (TestMessage, toMarbles) are near too many ordinary placeholders (readMessages)
  return [...exported]
    .filter(([, module]) => module.startsWith('rxjs-backpressure') && module !== 'rxjs-backpressure/testing')
    .map(([name]) => name);
}

/**
 * TypeScript gives "Did you mean ...?" only for the first few unknown names of a program, so a typo is found here:
 * a name one edit per three letters away from a name the snippet declares, or from a library export.
 */
function nearMiss(name: string, own: readonly string[], library: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  // `Job` beside `job`, `events$` beside `event` and `prices$` beside `Price` are idioms, not typos.
  const stem = (n: string) => n.toLowerCase().replace(/\$$/, '');
  const affix = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
  return [...own, ...library.filter(() => name.length >= 5)].find(
    (candidate) => !affix(stem(candidate), stem(name)) && editDistance(stem(name), stem(candidate)) <= limit,
  );
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** `README.md:90:7 TS2345 Argument of type ...`, with the line in the doc (the virtual file has one line more). */
function format(snippet: Snippet, diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (diagnostic.file === undefined || diagnostic.start === undefined) return `${snippet.id}: TS${diagnostic.code} ${message}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const [doc] = snippet.id.split(':');
  return `${doc}:${snippet.line + line - 1}:${character + 1} TS${diagnostic.code} ${message}`;
}

let results: Map<string, Checked>;
let elapsed = 0;
beforeAll(() => {
  const started = process.hrtime.bigint();
  results = typecheck([...markdown, ...examples, ...selfTestSnippets]);
  elapsed = Number(process.hrtime.bigint() - started) / 1e6;
}, 60_000);

function problemsOf(snippet: Snippet): readonly string[] {
  const checked = results.get(snippet.id);
  if (checked === undefined) throw new Error(`${snippet.id} was not checked`);
  return checked.problems;
}

describe.each([...pages, ['JSDoc examples in src/', examples] as [string, Snippet[]]])(
  '%s: every ts snippet typechecks against src/',
  (doc, snippets) => {
  it(WITHOUT_SNIPPETS.has(doc) ? 'has no ts snippet (prose and tables only)' : 'has snippets to check', () => {
    if (WITHOUT_SNIPPETS.has(doc)) expect(snippets).toEqual([]);
    else expect(snippets.length).toBeGreaterThan(0);
  });
  for (const snippet of snippets) {
    it(snippet.id, () => {
      expect(problemsOf(snippet)).toEqual([]);
    });
  }
  },
);

describe('the snippet check can fail', () => {
  const byName = (name: keyof typeof selfTests) => {
    const snippet = selfTestSnippets.find((s) => s.id === `self-test:${name}`);
    if (snippet === undefined) throw new Error(name);
    return { problems: problemsOf(snippet).join('\n'), placeholders: results.get(snippet.id)?.placeholders };
  };

  it('a misspelled option is a diagnostic', () => {
    expect(byName('misspelledOption').problems).toMatch(/TS2561 .*'capacty'/);
  });

  it('importing an export that does not exist is a diagnostic', () => {
    expect(byName('missingExport').problems).toMatch(/TS2724 .*'dropOnFul'/);
  });

  it('using a library export without importing it is a failure, not a placeholder', () => {
    expect(byName('notImported').problems).toMatch(/uses dropOnFull without importing it from 'rxjs-backpressure'/);
  });

  it("a typo of the snippet's own name is a failure, not a placeholder", () => {
    expect(byName('localTypo').problems).toMatch(/self-test:3:1 TS\d+ Cannot find name 'demnd'.*a typo of [dD]emand\?/);
  });

  it('a wrong argument type is a diagnostic, and points at the line', () => {
    expect(byName('wrongType').problems).toMatch(/^self-test:2:\d+ TS2345 /);
  });

  it("only an `any` key's implicit any is tolerated, not a string key's", () => {
    expect(byName('stringIndex').problems).toMatch(/TS7053 .*expression of type 'string'/);
  });

  it('free names become placeholders and then check clean', () => {
    expect(byName('placeholdersOnly')).toEqual({ problems: '', placeholders: ['log', 'ticks$'] });
  });

  it('found the snippets (counts, opt-outs and time in the log)', () => {
    expect(markdown.length + examples.length).toBeGreaterThan(40);
    const tolerated = [...results.values()].flatMap((checked) => checked.tolerated);
    console.info(
      `snippets: ${pages.map(([doc, snippets]) => `${doc} ${snippets.length}`).join(', ')}, JSDoc ${examples.length}; ` +
        `opted out: ${optedOut(MARKDOWN, JSDOC).join(', ') || 'none'}; typechecked in ${Math.round(elapsed)} ms; ` +
        `implicit any from a placeholder, tolerated: ${tolerated.length}\n${tolerated.join('\n')}`,
    );
  });
});
