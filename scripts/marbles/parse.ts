/** One notification on a lane, at its frame (rxjs run-mode rules: every character but a space is one frame). */
export interface LaneEvent {
  frame: number;
  kind: 'next' | 'error' | 'complete';
  /** The marble character of a value. */
  symbol: string;
  /** Position within a `(...)` group at the same frame, 0 for the first. */
  stack: number;
}

export interface ParsedLane {
  events: LaneEvent[];
  /** Frames the marble string spans (the lane's drawn length). */
  frames: number;
}

/**
 * Parses a marble string the way `TestScheduler.run` reads it: spaces are ignored, every other character takes one
 * frame, and the events of a `(...)` group share the frame of its `(`. Time progression (`10ms`) and subscription
 * markers (`^`, `!`) are not drawn and are refused, so the drawing can never disagree with the spec about time.
 */
export function parseLane(marbles: string): ParsedLane {
  const events: LaneEvent[] = [];
  let frame = 0;
  let group: { frame: number; size: number } | undefined;
  for (const symbol of marbles) {
    if (symbol === ' ') continue;
    if (symbol === '(') {
      if (group !== undefined) throw new SyntaxError(`nested group in marbles '${marbles}'`);
      group = { frame, size: 0 };
    } else if (symbol === ')') {
      if (group === undefined) throw new SyntaxError(`')' without '(' in marbles '${marbles}'`);
      group = undefined;
    } else if (symbol === '^' || symbol === '!' || symbol === '[' || symbol === ']') {
      throw new SyntaxError(`'${symbol}' is not drawn; give subscriptions separately (marbles '${marbles}')`);
    } else if (symbol !== '-') {
      const kind = symbol === '|' ? 'complete' : symbol === '#' ? 'error' : 'next';
      events.push({ frame: group?.frame ?? frame, kind, symbol, stack: group === undefined ? 0 : group.size++ });
    }
    frame += 1;
  }
  if (group !== undefined) throw new SyntaxError(`unclosed group in marbles '${marbles}'`);
  if (/\d+(ms|s|m)\b/.test(marbles)) throw new SyntaxError(`time progression is not drawn (marbles '${marbles}')`);
  return { events, frames: frame };
}
