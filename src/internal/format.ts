/**
 * Message text that cannot throw.
 *
 * Error messages quote what a user's callback or store returned, and those values are hostile by nature: an
 * `Object.create(null)` has no `toString`, a getter or a `toString` may throw, a BigInt or a cycle defeats
 * `JSON.stringify`. A message builder that throws would replace the error the stream was about to report and skip the
 * drop reports that go with it, so every message quotes values through {@link describe}.
 */

const MAX = 80;

/**
 * A short, safe rendering of any value for an error message: numbers and BigInts as written, strings quoted, `null`,
 * and the kind of anything else (`an object`, `an array`, `a function`, `boolean`, `undefined`). Never throws.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'bigint':
      return `${String(value)}n`;
    case 'string':
      return clip(JSON.stringify(value));
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return typeof value;
  }
}

function clip(text: string): string {
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text;
}
