/**
 * The options layer (src/internal/options.ts): a schema is written once, and the key list and the settings type follow
 * from it. Adding an option to an operator's options interface without a check for it is a type error at the schema.
 */
import { describe, expectTypeOf, test } from 'vitest';
import { optional, positiveInteger, settings, withDefault } from '../../src/internal/options.js';
import type { Schema } from '../../src/internal/options.js';
import { QUEUE_SCHEMA } from '../../src/queue/options.js';
import type { DropOnFullOptions } from '../../src/operators/dropOnFull.js';

interface WidgetOptions {
  size: number;
  count?: number | undefined;
}

describe('Schema<Options>', () => {
  test('a check for every option compiles, and the settings keep the option names and the checks types', () => {
    const SCHEMA = { size: positiveInteger, count: withDefault(positiveInteger, 3) } satisfies Schema<WidgetOptions>;
    const s = settings('widget', SCHEMA, { size: 1 });
    expectTypeOf(s).toEqualTypeOf<{ size: number; count: number }>();
  });

  test('an option without a check does not compile', () => {
    // @ts-expect-error count has no check
    const SCHEMA = { size: positiveInteger } satisfies Schema<WidgetOptions>;
    void SCHEMA;
  });

  test('a check for an option the interface does not have does not compile', () => {
    const SCHEMA = {
      size: positiveInteger,
      count: optional(positiveInteger),
      // @ts-expect-error colour is no option of WidgetOptions
      colour: positiveInteger,
    } satisfies Schema<WidgetOptions>;
    void SCHEMA;
  });

  test("a real operator: dropOnFull's options less one check do not compile", () => {
    const SCHEMA = {
      capacity: positiveInteger,
      overflow: optional(positiveInteger),
      earlyDrop: optional(positiveInteger),
      random: optional(positiveInteger),
      maxAge: optional(positiveInteger),
      ...QUEUE_SCHEMA,
      // @ts-expect-error codel has no check
    } satisfies Schema<DropOnFullOptions<unknown>>;
    void SCHEMA;
  });
});
