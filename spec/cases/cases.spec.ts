import { describe, expect, it } from 'vitest';
import { MARBLE_CASES } from './index.js';
import { runCase } from './run.js';

describe('canonical marble cases (the data the docs draw)', () => {
  it('have unique ids that are safe file names', () => {
    const ids = MARBLE_CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z][\w.-]*$/);
  });

  for (const marbleCase of MARBLE_CASES) {
    it(`${marbleCase.id}: ${marbleCase.title}`, () => {
      runCase(marbleCase);
    });
  }
});
