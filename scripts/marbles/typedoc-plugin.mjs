// @ts-check
// TypeDoc plugin (typedoc.json "plugin"): puts the generated marble diagrams on the API pages, and leaves out the
// members Demand inherits from rxjs' Observable (their rxjs comments link to rxjs operators TypeDoc cannot resolve,
// and their docs live at rxjs.dev).
//
// Each docs/marbles/<operator>[-variant].svg is appended to the comment of the export named <operator> (a dotted id such
// as Demand.drain names a member), as a relative link TypeDoc copies into the site's media folder.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    for (const reflection of Object.values(project.reflections)) {
      if (reflection.isDeclaration() && reflection.inheritedFrom?.name.startsWith('Observable.')) {
        project.removeReflection(reflection);
      }
    }

    const folder = resolve('docs/marbles');
    const diagrams = readdirSync(folder)
      .filter((file) => file.endsWith('.svg'))
      // the canonical case (no variant suffix) first, then the variants by name
      .sort((a, b) => Number(a.includes('-')) - Number(b.includes('-')) || a.localeCompare(b));
    for (const file of diagrams) {
      const id = file.slice(0, -'.svg'.length);
      const [owner = '', member] = id.split('-')[0]?.split('.') ?? [];
      const target = findExport(project, owner, member);
      if (target === undefined) {
        app.logger.warn(`marbles: ${file} names no exported ${id.split('-')[0]}`);
        continue;
      }
      const path = join(folder, file);
      const title = /<title[^>]*>([^<]*)<\/title>/.exec(readFileSync(path, 'utf8'))?.[1] ?? id;
      const registered = project.files.registerAbsolute(path);
      const comment = target.comment;
      if (comment === undefined || registered === undefined) continue;
      insertBeforeExample(comment.summary, [
        { kind: 'text', text: `![${title.replace(/[[\]]/g, '')}](` },
        { kind: 'relative-link', text: `docs/marbles/${file}`, target: registered.target, targetAnchor: undefined },
        { kind: 'text', text: ')\n\n' },
      ]);
    }
  });
}

/**
 * Inserts parts just before the comment's `## Example` heading (after everything if it has none), so the diagrams
 * follow the ASCII marble diagram of the summary.
 *
 * @param {import('typedoc').CommentDisplayPart[]} summary
 * @param {import('typedoc').CommentDisplayPart[]} parts
 */
function insertBeforeExample(summary, parts) {
  const at = summary.findIndex((part) => part.kind === 'text' && part.text.includes('## Example'));
  if (at < 0) {
    summary.push({ kind: 'text', text: '\n\n' }, ...parts);
    return;
  }
  const part = /** @type {import('typedoc').CommentDisplayPart} */ (summary[at]);
  const split = part.text.indexOf('## Example');
  summary.splice(at, 1, { kind: 'text', text: part.text.slice(0, split) }, ...parts, {
    kind: 'text',
    text: part.text.slice(split),
  });
}

/**
 * The commented reflection of an export (a function's first signature), or of one member of an exported class.
 *
 * @param {import('typedoc').ProjectReflection} project
 * @param {string} owner
 * @param {string | undefined} member
 * @returns {import('typedoc').Reflection | undefined}
 */
function findExport(project, owner, member) {
  const kinds = ReflectionKind.Function | ReflectionKind.Class;
  // with several entry points the exports sit in one module per entry point, otherwise on the project itself
  const modules = (project.children ?? []).filter((child) => child.kindOf(ReflectionKind.Module));
  let found = [project, ...modules].map((scope) => scope.getChildByName(owner)).find((child) => child !== undefined);
  if (found === undefined || !found.kindOf(kinds)) return undefined;
  if (member !== undefined) found = found.isDeclaration() ? found.getChildByName(member) : undefined;
  if (found === undefined || !found.isDeclaration()) return undefined;
  return found.signatures?.[0] ?? found;
}
