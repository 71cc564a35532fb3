import { parseLane } from './parse.js';
import type { LaneEvent } from './parse.js';

/** What a diagram is drawn from: the marble case data of spec/cases (a MarbleCase fits as it is). */
export interface MarbleDiagram {
  id: string;
  title: string;
  operator: string;
  call: string;
  input?: string;
  lanes: Record<string, string>;
  captions?: Record<string, string>;
  notes?: string[];
  /** The class (or anything with a `name`) a `#` stands for; its name is written under the X. */
  error?: { readonly name: string };
}

/** Lanes drawn after the operator box; every lane before `output` is drawn above it. */
const OUTPUT_LANE = 'output';

const COLUMN = 28; // px per frame
const LABEL = 92; // px for lane names
const RADIUS = 11;
const STACK = 2 * RADIUS + 4; // vertical step between the values of one group
const LANE = 44; // px of a lane with no group
const CHAR = 7.2; // px per character of 12px monospace, for sizing only
const PAD = 16;

type Role = 'input' | 'demand' | 'output' | 'drops' | 'other';

function roleOf(name: string): Role {
  if (name === 'demand') return 'demand';
  if (name === 'output') return 'output';
  if (name === 'drops') return 'drops';
  if (name === 'source' || name === 'request') return 'input';
  return 'other';
}

const STYLE = `
    .bg { fill: #ffffff; stroke: #d0d7de; }
    text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace; fill: #1f2328; }
    .title { font-size: 14px; font-weight: bold; }
    .subtitle { font-size: 12px; fill: #57606a; }
    .lane-name { font-size: 12px; font-weight: bold; text-anchor: end; dominant-baseline: central; }
    .caption, .note, .error-name { font-size: 11px; fill: #57606a; }
    .caption { dominant-baseline: central; font-style: italic; }
    .error-name { text-anchor: middle; fill: #cf222e; }
    .axis { stroke: #6e7781; stroke-width: 1.5; fill: none; }
    .arrow { fill: #6e7781; }
    .box { fill: #f6f8fa; stroke: #6e7781; stroke-width: 1.2; }
    .call { font-size: 12px; dominant-baseline: central; }
    .value { stroke-width: 1.5; }
    .value-text { font-size: 12px; font-weight: bold; text-anchor: middle; dominant-baseline: central; }
    .input { fill: #ddf4ff; stroke: #0969da; }
    .demand { fill: #fff8c5; stroke: #9a6700; }
    .output { fill: #dafbe1; stroke: #1a7f37; }
    .drops { fill: #ffebe9; stroke: #cf222e; }
    .other { fill: #fbefff; stroke: #8250df; }
    .complete { stroke: #1f2328; stroke-width: 2.5; }
    .error { stroke: #cf222e; stroke-width: 2.5; }
    @media (prefers-color-scheme: dark) {
      .bg { fill: #0d1117; stroke: #30363d; }
      text { fill: #e6edf3; }
      .subtitle, .caption, .note { fill: #8d96a0; }
      .error-name { fill: #ff7b72; }
      .axis { stroke: #8d96a0; }
      .arrow { fill: #8d96a0; }
      .box { fill: #161b22; stroke: #8d96a0; }
      .input { fill: #0c2d6b; stroke: #58a6ff; }
      .demand { fill: #3d2e00; stroke: #d29922; }
      .output { fill: #033a16; stroke: #3fb950; }
      .drops { fill: #5d0f12; stroke: #ff7b72; }
      .other { fill: #2e1461; stroke: #bc8cff; }
      .complete { stroke: #e6edf3; }
      .error { stroke: #ff7b72; }
    }`;

function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Pixel values are kept to one decimal so the output is byte-for-byte stable. */
function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function label(role: Role, symbol: string): string {
  return role === 'demand' && symbol === 'i' ? '∞' : symbol;
}

interface Layout {
  name: string;
  role: Role;
  events: LaneEvent[];
  frames: number;
  height: number;
}

/**
 * Renders one marble diagram as a standalone SVG: every lane labelled on the left, values as labelled circles (the
 * values of one group stacked at their shared frame), completion as a vertical bar, error as an X, the operator call
 * in a box between the input lanes and the output lanes. Colours follow `prefers-color-scheme`, on a background of
 * their own, so the diagram reads on light and dark pages. The ASCII lanes are kept in `<desc>` for screen readers.
 */
export function renderMarbleSvg(diagram: MarbleDiagram): string {
  const lanes: Layout[] = Object.entries(diagram.lanes).map(([name, marbles]) => {
    const { events, frames } = parseLane(marbles);
    const depth = Math.max(1, ...events.filter((e) => e.kind === 'next').map((e) => e.stack + 1));
    const errorRoom = events.some((e) => e.kind === 'error') && diagram.error !== undefined ? 14 : 0;
    return { name, role: roleOf(name), events, frames, height: LANE + (depth - 1) * STACK + errorRoom };
  });
  const frames = Math.max(...lanes.map((l) => l.frames)) + 1;
  const axisEnd = LABEL + frames * COLUMN;
  const captions = diagram.captions ?? {};
  const captionWidth = Math.max(0, ...Object.values(captions).map((c) => c.length * CHAR + 14));
  const notes = diagram.notes ?? [];
  const texts = [diagram.call.length * CHAR + 24, (diagram.operator.length + diagram.title.length + 3) * CHAR];
  if (diagram.input !== undefined) texts.push(diagram.input.length * CHAR);
  for (const note of notes) texts.push(note.length * 6.6);
  const width = Math.ceil(PAD + Math.max(axisEnd + captionWidth, LABEL + Math.max(...texts)) + PAD);

  const body: string[] = [];
  let y = PAD + 14;
  body.push(`<text class="title" x="${PAD}" y="${px(y)}">${escape(diagram.operator)}</text>`);
  body.push(
    `<text class="subtitle" x="${px(PAD + (diagram.operator.length + 2) * 8.4)}" y="${px(y)}">${escape(diagram.title)}</text>`,
  );
  y += 14;
  if (diagram.input !== undefined) {
    y += 20;
    body.push(`<text class="call" x="${px(LABEL + PAD)}" y="${px(y)}">${escape(diagram.input)}</text>`);
  }
  let boxDrawn = false;
  const drawBox = (): void => {
    const top = y + 8;
    body.push(
      `<rect class="box" x="${px(LABEL + PAD - 6)}" y="${px(top)}" width="${px(Math.max(axisEnd - LABEL, diagram.call.length * CHAR + 24))}" height="30" rx="4"/>`,
    );
    body.push(`<text class="call" x="${px(LABEL + PAD + 6)}" y="${px(top + 15)}">${escape(diagram.call)}</text>`);
    y = top + 30;
    boxDrawn = true;
  };
  for (const lane of lanes) {
    if (lane.name === OUTPUT_LANE && !boxDrawn) drawBox();
    const axisY = y + LANE / 2;
    body.push(`<g class="lane lane-${escape(lane.name)}">`);
    body.push(`<text class="lane-name" x="${px(PAD + LABEL - 12)}" y="${px(axisY)}">${escape(lane.name)}</text>`);
    const x0 = PAD + LABEL;
    const x1 = PAD + axisEnd;
    body.push(`<line class="axis" x1="${px(x0)}" y1="${px(axisY)}" x2="${px(x1 - 6)}" y2="${px(axisY)}"/>`);
    body.push(`<path class="arrow" d="M${px(x1)} ${px(axisY)} l-9 -4.5 v9 z"/>`);
    const caption = captions[lane.name];
    if (caption !== undefined) {
      body.push(`<text class="caption" x="${px(x1 + 10)}" y="${px(axisY)}">${escape(caption)}</text>`);
    }
    const valuesAt = new Map<number, number>();
    for (const event of lane.events) {
      if (event.kind === 'next') valuesAt.set(event.frame, (valuesAt.get(event.frame) ?? 0) + 1);
    }
    for (const event of lane.events) {
      const cx = x0 + (event.frame + 0.5) * COLUMN;
      // a terminal event that shares its frame with values is drawn just after them
      const shift = event.kind !== 'next' && valuesAt.has(event.frame) ? RADIUS + 6 : 0;
      if (event.kind === 'next') {
        const cy = axisY + event.stack * STACK;
        body.push(`<circle class="value ${lane.role}" cx="${px(cx)}" cy="${px(cy)}" r="${RADIUS}"/>`);
        body.push(
          `<text class="value-text" x="${px(cx)}" y="${px(cy + 0.5)}">${escape(label(lane.role, event.symbol))}</text>`,
        );
      } else if (event.kind === 'complete') {
        const x = cx + shift;
        body.push(`<line class="complete" x1="${px(x)}" y1="${px(axisY - 12)}" x2="${px(x)}" y2="${px(axisY + 12)}"/>`);
      } else {
        const x = cx + shift;
        const d = 8;
        body.push(
          `<path class="error" d="M${px(x - d)} ${px(axisY - d)} L${px(x + d)} ${px(axisY + d)} M${px(x + d)} ${px(axisY - d)} L${px(x - d)} ${px(axisY + d)}"/>`,
        );
        if (diagram.error !== undefined) {
          body.push(`<text class="error-name" x="${px(x)}" y="${px(axisY + 24)}">${escape(diagram.error.name)}</text>`);
        }
      }
    }
    body.push('</g>');
    y += lane.height;
  }
  if (!boxDrawn) drawBox();
  y += 6;
  for (const note of notes) {
    y += 16;
    body.push(`<text class="note" x="${px(PAD + LABEL)}" y="${px(y)}">${escape(note)}</text>`);
  }
  const height = Math.ceil(y + PAD);

  const desc = [
    diagram.input ?? '',
    ...Object.entries(diagram.lanes).map(([name, marbles]) => `${name}: ${marbles}`),
    diagram.call,
  ]
    .filter((line) => line !== '')
    .join('\n');
  const titleId = `${diagram.id}-title`.replace(/[^\w-]/g, '-');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${titleId}">`,
    `  <title id="${titleId}">${escape(`${diagram.operator}: ${diagram.title}`)}</title>`,
    `  <desc>${escape(desc)}</desc>`,
    `  <style>${STYLE}\n  </style>`,
    `  <rect class="bg" x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="6"/>`,
    ...body.map((line) => `  ${line}`),
    '</svg>',
    '',
  ].join('\n');
}

/** The committed file of a diagram, relative to the repository root. */
export function marbleSvgPath(diagram: Pick<MarbleDiagram, 'id'>): string {
  return `docs/marbles/${diagram.id}.svg`;
}
