/**
 * examples/http-server/grafana-dashboard.json: valid JSON of a Grafana dashboard, and every series it queries is one
 * the HTTP example really exports. The example server is started on loopback, loaded until its queue holds requests
 * and drops some, and scraped over a real socket; the names and labels its PromQL uses are compared with that scrape.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../examples/http-server/index.js';
import type { HttpServer } from '../../examples/http-server/index.js';
import { parseExposition } from './exposition.js';
import type { Exposition } from './exposition.js';

const FILE = join(import.meta.dirname, '../../examples/http-server/grafana-dashboard.json');

/** Labels Prometheus attaches to every scraped series (target labels), which the process does not export. */
const TARGET_LABELS = ['job', 'instance'];

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** What a PromQL expression reads: the metric names of its selectors and the label names it matches or groups by. */
interface Reads {
  metrics: string[];
  labels: string[];
}

/** A small PromQL reader, enough for dashboard expressions: selectors, matchers, `by (...)`, ranges, calls. */
function readsOf(expr: string): Reads {
  const labels: string[] = [];
  // ranges and subqueries ([5m], [$__rate_interval]) name nothing
  let rest = expr.replace(/\[[^\]]*\]/g, ' ');
  // matchers: {label op "value", ...}
  rest = rest.replace(/\{([^}]*)\}/g, (_, body: string) => {
    for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g)) labels.push(m[1]!);
    return ' ';
  });
  // grouping: by (a, b) / without (...) / on (...) / ignoring (...)
  rest = rest.replace(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g, (_, body: string) => {
    labels.push(
      ...body
        .split(',')
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    );
    return ' ';
  });
  rest = rest.replace(/"(?:[^"\\]|\\.)*"/g, ' ');
  const metrics: string[] = [];
  for (const m of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call !== undefined || KEYWORDS.has(name!.toLowerCase())) continue; // a function or an operator
    const before = rest[m.index - 1];
    if (before !== undefined && /[0-9.$]/.test(before)) continue; // part of a number (1e3) or a variable ($job)
    metrics.push(name!);
  }
  return { metrics, labels };
}

interface Query {
  where: string;
  expr: string;
}

interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  gridPos?: unknown;
  datasource?: { uid?: unknown };
  targets?: { expr?: unknown; refId?: unknown }[];
  panels?: Panel[];
}

interface Dashboard {
  title?: unknown;
  uid?: unknown;
  schemaVersion?: unknown;
  panels?: Panel[];
  templating?: { list?: { name?: unknown; type?: unknown; query?: unknown; definition?: unknown }[] };
}

function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: panel targets, and the metric queries of its variables. */
function queriesOf(dashboard: Dashboard): Query[] {
  const queries: Query[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr !== 'string') throw new Error(`panel ${String(panel.title)}: a target without expr`);
      queries.push({ where: `panel "${String(panel.title)}"`, expr: target.expr });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: unknown }).query;
    // label_values(selector, label): the selector is PromQL, the label must be on it
    const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(String(query));
    if (m === null) throw new Error(`variable ${String(variable.name)}: not a label_values() query: ${String(query)}`);
    queries.push({ where: `variable $${String(variable.name)}`, expr: `${m[1]!} by (${m[2]!})` });
  }
  return queries;
}

/**
 * What the queries read that the scrape does not have: a metric name no sample carries, or a label name that none
 * of the metrics of its expression carries (beyond the target labels Prometheus adds).
 */
function unknownReads(queries: Query[], scrape: Exposition): string[] {
  const labelsOf = new Map<string, Set<string>>();
  for (const sample of scrape.samples) {
    const set = labelsOf.get(sample.name) ?? new Set(TARGET_LABELS);
    for (const label of Object.keys(sample.labels)) set.add(label);
    labelsOf.set(sample.name, set);
  }
  const problems: string[] = [];
  for (const { where, expr } of queries) {
    const { metrics, labels } = readsOf(expr);
    if (metrics.length === 0) problems.push(`${where}: reads no metric: ${expr}`);
    for (const metric of metrics) {
      if (!labelsOf.has(metric)) problems.push(`${where}: ${metric} is not exported`);
    }
    for (const label of labels) {
      if (!metrics.some((metric) => labelsOf.get(metric)?.has(label))) {
        problems.push(`${where}: no series of ${metrics.join(', ')} has the label ${label}`);
      }
    }
  }
  return problems;
}

describe('examples/http-server/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
  let server: HttpServer;
  let scrape: Exposition;

  beforeAll(async () => {
    // one worker, two slots: of six requests sent at once, some wait in the queue and some are turned away
    server = await startServer({ port: 0, capacity: 2, workers: 1 });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${server.url}/job?ms=20`, { headers: { 'x-priority': i % 2 === 0 ? 'paid' : 'batch' } }).then(
          async (r) => {
            await r.text();
            return r.status;
          },
        ),
      ),
    );
    expect(answers).toContain(200);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    scrape = parseExposition(await response.text());
  });

  afterAll(async () => {
    await server?.close();
  });

  it('is a Grafana dashboard: a title, a uid, panels with ids, positions and PromQL targets on the datasource variable', () => {
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(typeof dashboard.schemaVersion).toBe('number');
    const panels = panelsOf(dashboard);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const variables = (dashboard.templating?.list ?? []).map((v) => v.name);
    expect(variables).toContain('datasource');
    for (const panel of panels) {
      expect(panel.gridPos, `panel ${String(panel.title)}`).toMatchObject({
        x: expect.any(Number),
        y: expect.any(Number),
        w: expect.any(Number),
        h: expect.any(Number),
      });
      if (panel.type === 'row') continue;
      expect(panel.datasource?.uid, `panel ${String(panel.title)}`).toBe('${datasource}');
      expect(panel.targets?.length, `panel ${String(panel.title)}`).toBeGreaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  it('shows depth vs capacity, rates, drops by reason, the queue-time heatmap and histogram_quantile, and the alerts', () => {
    const panels = panelsOf(dashboard);
    const exprs = (p: Panel): string => (p.targets ?? []).map((t) => String(t.expr)).join('\n');
    const all = panels.map(exprs).join('\n');
    expect(panels.some((p) => /http_jobs_depth/.test(exprs(p)) && /http_jobs_capacity/.test(exprs(p)))).toBe(true);
    expect(all).toMatch(/rate\(http_jobs_enqueued_total/);
    expect(all).toMatch(/rate\(http_jobs_dequeued_total/);
    expect(all).toMatch(/sum by \(reason\) \(rate\(http_jobs_dropped_total/);
    const heatmap = panels.find((p) => p.type === 'heatmap');
    expect(heatmap && exprs(heatmap)).toMatch(/http_jobs_queue_time_seconds_bucket/);
    expect(all).toMatch(/histogram_quantile\(0\.99, sum by \(le\) \(rate\(http_jobs_queue_time_seconds_bucket/);
    const alerts = panels.filter((p) => /alert/i.test(String(p.title)) && p.type !== 'row');
    expect(alerts.map((p) => String(p.title).split(':')[0])).toEqual([
      'Depth alert',
      'Drop-rate alert',
      'Queue-time alert',
    ]);
  });

  it('queries only series the HTTP example exports, with labels they carry', () => {
    expect(scrape.value('http_jobs_queue_time_seconds_count')).toBeGreaterThan(0); // the scrape saw traffic
    const queries = queriesOf(dashboard);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    expect(unknownReads(queries, scrape)).toEqual([]);
  });

  it('would notice a metric or label the example does not export (the check can fail)', () => {
    const wrong: Query[] = [
      { where: 'a', expr: 'sum(rate(http_jobs_queue_time_seconds{le="1"}[5m]))' }, // the family name is no series
      { where: 'b', expr: 'sum by (tier) (rate(http_jobs_dropped_total[5m]))' }, // no tier label
      { where: 'c', expr: 'histogram_quantile(0.99, sum by (le) (rate(http_jobs_queue_time_seconds_bucket[5m])))' },
      { where: 'd', expr: 'vector(1)' },
    ];
    expect(unknownReads(wrong, scrape)).toEqual([
      'a: http_jobs_queue_time_seconds is not exported',
      'a: no series of http_jobs_queue_time_seconds has the label le',
      'b: no series of http_jobs_dropped_total has the label tier',
      'd: reads no metric: vector(1)',
    ]);
  });

  it('reads PromQL selectors, matchers, groupings and calls apart', () => {
    expect(
      readsOf(
        'sum by (le) (increase(a_bucket{job=~"$job", quantile="0.99"}[$__rate_interval])) / ignoring(x) b_total offset 5m + 1e3',
      ),
    ).toEqual({ metrics: ['a_bucket', 'b_total'], labels: ['job', 'quantile', 'le', 'x'] });
    expect(readsOf('max(a / b)')).toEqual({ metrics: ['a', 'b'], labels: [] });
  });
});
