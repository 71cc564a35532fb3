import { dropOnFull } from '../../src/operators/dropOnFull.js';
import type { DropOverflow } from '../../src/operators/dropOnFull.js';
import type { MarbleCase } from './types.js';

// The same arrivals against each overflow policy: capacity 2, no credit until frame 10, so a and b fill the queue and
// c (frame 5) and d (frame 7) each find it full. After the source completes at 9, two credits deliver what is left;
// the second empties the queue and the completion follows at once.
const source = '-a-b-c-d-|';
const demand = '----------1-1--';

function policyCase(overflow: DropOverflow, output: string, drops: string, title: string): MarbleCase {
  const reason = overflow === 'drop-incoming' ? 'overflow' : 'evicted';
  return {
    id: overflow === 'drop-incoming' ? 'dropOnFull' : `dropOnFull-${overflow}`,
    title,
    operator: 'dropOnFull',
    call: `dropOnFull({ capacity: 2, overflow: '${overflow}', demand })`,
    lanes: { source, demand, output, drops },
    captions: { drops: `reason '${reason}'` },
    subscription: '^--------!',
    build: (h) => {
      const dropped = h.drops();
      const output$ = h
        .source()
        .pipe(dropOnFull({ capacity: 2, overflow, demand: h.credits(), onDrop: dropped.onDrop }));
      return { output: output$, drops: dropped.values };
    },
  };
}

export const dropOnFullCases: MarbleCase[] = [
  // c and d are rejected on arrival; a and b are delivered.
  policyCase('drop-incoming', '----------a-(b|)', '-----c-d', 'A full queue rejects arrivals'),
  // c evicts a (the head), d evicts b: the freshest two are delivered.
  policyCase('drop-oldest', '----------c-(d|)', '-----a-b', 'A full queue evicts its oldest value'),
  // c evicts b (the most recently queued), d evicts c: the first and the last are delivered.
  policyCase('drop-newest', '----------a-(d|)', '-----b-c', 'A full queue evicts its most recently queued value'),
  // c evicts everything queued (a and b) and queues alone; d then fits.
  policyCase('drop-buffer', '----------c-(d|)', '-----(ab)', 'A full queue is emptied for the arrival'),
];
