import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { LoadSummary } from './summary.ts';
import { fmtInt, fmtMs } from './units.ts';

/** Writes each report in the format its extension names (.json, .csv, .html). */
export async function writeReports(summary: LoadSummary, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const ext = path.extname(file).toLowerCase();
    const body = ext === '.json' ? jsonReport(summary) : ext === '.csv' ? csvReport(summary) : htmlReport(summary);
    await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await fs.writeFile(file, body);
  }
}

export function jsonReport(s: LoadSummary): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}

/** The per-second timeline, one row a second. */
export function csvReport(s: LoadSummary): string {
  const rows = s.timeline.map((t) => [
    t.second,
    new Date(t.epochSecond * 1000).toISOString(),
    t.requests,
    t.ok,
    t.errors,
    t.grades,
    t.p50 ?? '',
    t.p95 ?? '',
    t.p99 ?? '',
    t.max ?? '',
    t.rest,
    t.grpc,
    t.inflight,
    t.late,
    t.dropped,
    Object.entries(t.errorsByKind)
      .map(([k, v]) => `${k}=${v}`)
      .join(';'),
  ]);
  return stringify(rows, {
    header: true,
    columns: [
      'second',
      'time',
      'requests',
      'ok',
      'errors',
      'grades',
      'p50_ms',
      'p95_ms',
      'p99_ms',
      'max_ms',
      'rest',
      'grpc',
      'inflight',
      'late',
      'dropped',
      'errors_by_kind',
    ],
  });
}

const esc = (v: unknown): string =>
  String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface Series {
  label: string;
  color: string;
  points: (number | null)[];
}

const W = 860;
const H = 240;
const PAD = { l: 64, r: 16, t: 28, b: 34 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** A line chart as inline SVG: time (seconds) on x, the series on y. */
export function svgLineChart(title: string, xs: number[], series: Series[], yUnit: string): string {
  const all = series.flatMap((s) => s.points.filter((p): p is number => p !== null));
  // Five intervals of a "nice" maximum; counts start at 5 so every tick is a whole number.
  const yMax = niceMax(Math.max(yUnit === 'ms' ? 0 : 5, ...all));
  const xMax = Math.max(1, xs.length ? xs[xs.length - 1] : 1);
  const x = (v: number) => PAD.l + (v / xMax) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const grid: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    grid.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`,
      `<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${esc(yUnit === 'ms' ? fmtMs(v) : fmtInt(v))}</text>`,
    );
  }
  const xTicks = 6;
  for (let i = 0; i <= xTicks; i++) {
    const v = Math.round((xMax / xTicks) * i);
    grid.push(`<text x="${x(v)}" y="${H - PAD.b + 16}" text-anchor="middle">${v}s</text>`);
  }
  const lines = series.map((s) => {
    const segs: string[] = [];
    let cur: string[] = [];
    s.points.forEach((p, i) => {
      if (p === null) {
        if (cur.length) segs.push(cur.join(' '));
        cur = [];
      } else cur.push(`${x(xs[i]).toFixed(1)},${y(p).toFixed(1)}`);
    });
    if (cur.length) segs.push(cur.join(' '));
    return segs.map((pts) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${pts}"/>`).join('');
  });
  const legend = series
    .map(
      (s, i) =>
        `<g transform="translate(${PAD.l + i * 110},12)"><rect width="12" height="4" y="-4" fill="${s.color}"/><text x="16" y="0">${esc(s.label)}</text></g>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${grid.join('')}${lines.join('')}${legend}</svg></figure>`;
}

/** Latency by percentile on a log scale of 1/(1-p), the usual HdrHistogram plot. */
export function svgPercentileChart(pairs: [number, number][]): string {
  const pts = pairs.filter(([p]) => p < 100 && p > 0);
  if (pts.length < 2) return '';
  const xOf = (p: number) => Math.log10(1 / (1 - p / 100));
  const xMax = xOf(pts[pts.length - 1][0]);
  const yMax = niceMax(Math.max(...pts.map(([, us]) => us / 1000)));
  const x = (p: number) => PAD.l + (xOf(p) / xMax) * (W - PAD.l - PAD.r);
  const y = (ms: number) => H - PAD.b - (ms / yMax) * (H - PAD.t - PAD.b);
  const grid: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    grid.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`,
      `<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${esc(fmtMs(v))}</text>`,
    );
  }
  const lastP = pts[pts.length - 1][0];
  for (const [p] of pts) {
    if ([50, 90, 99, 99.9, 99.99, 99.999].includes(p)) {
      const anchor = p === lastP ? 'end' : 'middle';
      grid.push(`<text x="${x(p)}" y="${H - PAD.b + 16}" text-anchor="${anchor}">p${p}</text>`);
    }
  }
  const line = pts.map(([p, us]) => `${x(p).toFixed(1)},${y(us / 1000).toFixed(1)}`).join(' ');
  return `<figure><figcaption>Latency by percentile (HDR histogram)</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="latency by percentile">${grid.join('')}<polyline fill="none" stroke="#7c3aed" stroke-width="2" points="${line}"/></svg></figure>`;
}

/** A self-contained page: no scripts, no external assets, charts as inline SVG. */
export function htmlReport(s: LoadSummary): string {
  const xs = s.timeline.map((t) => t.second + 1);
  const charts = [
    svgLineChart(
      'Throughput per second',
      xs,
      [
        { label: 'requests/s', color: '#2563eb', points: s.timeline.map((t) => t.requests) },
        { label: 'ok/s', color: '#16a34a', points: s.timeline.map((t) => t.ok) },
      ],
      'n',
    ),
    Number(s.config.batch) > 1
      ? svgLineChart(
          'Grades acknowledged per second',
          xs,
          [{ label: 'grades/s', color: '#0891b2', points: s.timeline.map((t) => t.grades) }],
          'n',
        )
      : '',
    svgLineChart(
      'Latency per second',
      xs,
      [
        { label: 'p50', color: '#16a34a', points: s.timeline.map((t) => t.p50) },
        { label: 'p95', color: '#d97706', points: s.timeline.map((t) => t.p95) },
        { label: 'p99', color: '#dc2626', points: s.timeline.map((t) => t.p99) },
      ],
      'ms',
    ),
    svgLineChart(
      'Errors per second',
      xs,
      [
        { label: 'errors/s', color: '#dc2626', points: s.timeline.map((t) => t.errors) },
        ...(s.model === 'open'
          ? [{ label: 'dropped/s', color: '#6b7280', points: s.timeline.map((t) => t.dropped) }]
          : []),
      ],
      'n',
    ),
    svgPercentileChart(s.histogram.percentiles),
  ].join('\n');
  const l = s.latencyMs;
  const rows: [string, string][] = [
    ['Mode', `${s.mode}${s.mode === 'split' ? ` (${String(s.config.split)}% REST)` : ''}, ${s.model} model`],
    ['Started', s.startedAt],
    ['Duration', `${s.durationSec} s`],
    ['Requests', fmtInt(s.requests)],
    ['OK (acknowledged)', fmtInt(s.ok)],
    ['Errors', `${fmtInt(s.errors)} (${s.errorRatePercent}%)`],
    ['Grades acknowledged', fmtInt(s.grades)],
    ['Requests/s', fmtInt(s.rps)],
    ['Grades/s', fmtInt(s.gradesPerSec)],
    ['Latency p50 / p90 / p95', `${fmtMs(l.p50)} / ${fmtMs(l.p90)} / ${fmtMs(l.p95)}`],
    ['Latency p99 / p99.9 / max', `${fmtMs(l.p99)} / ${fmtMs(l.p999)} / ${fmtMs(l.max)}`],
    ['Sent REST / gRPC', `${fmtInt(s.split.rest)} / ${fmtInt(s.split.grpc)}`],
  ];
  if (s.model === 'open') rows.push(['Late / dropped', `${fmtInt(s.late)} / ${fmtInt(s.dropped)}`]);
  const errs = Object.entries(s.errorsByKind);
  const thresholds = s.thresholds.length
    ? `<h2>Thresholds</h2><table><tr><th>threshold</th><th>actual</th><th>result</th></tr>${s.thresholds
        .map(
          (t) =>
            `<tr><td><code>${esc(t.expr)}</code></td><td>${esc(t.actual ?? 'no data')}${esc(t.unit === 'ms' ? ' ms' : t.unit)}</td><td class="${t.passed ? 'pass' : 'fail'}">${t.passed ? 'pass' : 'FAIL'}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load test: ${esc(s.name)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:900px;color:#111827;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #e5e7eb;padding:4px 12px 4px 0;text-align:left}
figure{margin:18px 0}figcaption{font-weight:600;margin-bottom:4px}svg{width:100%;height:auto;font-size:11px;fill:#374151}
.pass{color:#15803d;font-weight:600}.fail{color:#b91c1c;font-weight:700}code{background:#f3f4f6;padding:1px 4px;border-radius:3px}
.muted{color:#6b7280}
</style></head><body>
<h1>Load test: ${esc(s.name)}</h1>
<p class="muted">aula load, report version ${s.reportVersion}. ${s.thresholds.length ? (s.thresholdsPassed ? '<span class="pass">All thresholds passed.</span>' : '<span class="fail">Thresholds failed.</span>') : ''}</p>
<h2>Summary</h2>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${errs.length ? `<h2>Errors by kind</h2><table>${errs.map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td>${fmtInt(v)}</td></tr>`).join('')}</table>` : ''}
${thresholds}
<h2>Over time</h2>
${charts}
<h2>Configuration</h2>
<table>${Object.entries(s.config)
    .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td><code>${esc(Array.isArray(v) ? v.join(', ') : v)}</code></td></tr>`)
    .join('')}</table>
</body></html>
`;
}
