import type { LoadOptions } from './options.ts';
import type { SecondSample, Stats } from './stats.ts';
import type { LoadSummary } from './summary.ts';
import { fmtDuration, fmtInt, fmtMs } from './units.ts';

export interface Output {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const errorList = (m: Record<string, number> | Map<string, number>, max = 6): string => {
  const entries = (m instanceof Map ? [...m] : Object.entries(m)).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return 'none';
  const shown = entries.slice(0, max).map(([k, v]) => `${k} ${fmtInt(v)}`);
  if (entries.length > max) shown.push(`+${entries.length - max} more`);
  return shown.join('  ');
};

export function describePlan(o: LoadOptions): string {
  const load =
    o.model === 'open'
      ? `open model, ${fmtInt(o.rate!)}/s (max ${fmtInt(o.maxInflight)} in flight)`
      : `closed model, ${fmtInt(o.users)} users${o.rampMs ? ` ramped over ${fmtDuration(o.rampMs)}` : ''}`;
  const mode = o.mode === 'split' ? `split ${o.splitRestPercent}% REST / ${100 - o.splitRestPercent}% gRPC` : o.mode;
  const stopAt = [
    o.durationMs !== undefined ? fmtDuration(o.durationMs) : '',
    o.requests ? `${fmtInt(o.requests)} requests` : '',
  ]
    .filter(Boolean)
    .join(' or ');
  const where = [o.mode !== 'grpc' ? o.target : '', o.mode !== 'rest' ? `grpc ${o.grpc}` : '']
    .filter(Boolean)
    .join(', ');
  return `${mode}, ${load}, batch ${o.batch}, ${stopAt}, ${where}`;
}

/**
 * The once-a-second view: a redrawn panel on a terminal (progress, rates, latency, errors), or
 * one plain line per second when the output is a file or a pipe.
 */
export class LiveView {
  private drawnLines = 0;

  constructor(
    private readonly out: Output,
    private readonly o: LoadOptions,
  ) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(stats: Stats, last: SecondSample | undefined, now: number): void {
    const elapsed = now - stats.startPerf;
    const rps = last?.requests ?? 0;
    const errPct = stats.requests ? (stats.errors / stats.requests) * 100 : 0;
    if (!this.tty) {
      const parts = [
        `[${fmtDuration(elapsed).padStart(6)}]`,
        `rps=${rps}`,
        `ok=${stats.ok}`,
        `errors=${stats.errors}`,
        `grades=${stats.grades}`,
        `p50=${fmtMs(last?.p50).replace(' ', '')}`,
        `p95=${fmtMs(last?.p95).replace(' ', '')}`,
        `p99=${fmtMs(last?.p99).replace(' ', '')}`,
        `inflight=${stats.inflight}`,
      ];
      if (this.o.model === 'open') parts.push(`late=${stats.late}`, `dropped=${stats.dropped}`);
      if (stats.errorsByKind.size) {
        parts.push(`kinds=${[...stats.errorsByKind].map(([k, v]) => `${k}:${v}`).join(',')}`);
      }
      this.out.write(`${parts.join(' ')}\n`);
      return;
    }
    const width = Math.max(20, Math.min(40, (this.out.columns ?? 80) - 40));
    let progressLine: string;
    const byTime = this.o.durationMs !== undefined ? Math.min(1, elapsed / this.o.durationMs) : 0;
    const byCount = this.o.requests !== undefined ? Math.min(1, (stats.requests + stats.dropped) / this.o.requests) : 0;
    const frac = Math.max(byTime, byCount);
    const filled = Math.round(frac * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    if (this.o.durationMs !== undefined && byTime >= byCount) {
      progressLine = `${bar} ${String(Math.floor(frac * 100)).padStart(3)}%  ${fmtDuration(elapsed)} of ${fmtDuration(this.o.durationMs)}, ${fmtDuration(Math.max(0, this.o.durationMs - elapsed))} left`;
    } else {
      progressLine = `${bar} ${String(Math.floor(frac * 100)).padStart(3)}%  ${fmtInt(stats.requests)} of ${fmtInt(this.o.requests ?? 0)} requests, ${fmtDuration(elapsed)}`;
    }
    const lines = [
      `\x1b[1maula load\x1b[0m  ${describePlan(this.o)}`,
      progressLine,
      `  now    ${fmtInt(rps).padStart(8)} req/s   ${fmtInt(last?.grades ?? 0).padStart(9)} grades/s   in flight ${fmtInt(stats.inflight)}`,
      `  total  ${fmtInt(stats.requests).padStart(8)} req     ${fmtInt(stats.grades).padStart(9)} grades     ok ${fmtInt(stats.ok)}   errors ${fmtInt(stats.errors)} (${errPct.toFixed(2)}%)`,
      `  latency (last second)  p50 ${fmtMs(last?.p50)}   p95 ${fmtMs(last?.p95)}   p99 ${fmtMs(last?.p99)}   max ${fmtMs(last?.max)}`,
      `  errors ${errorList(stats.errorsByKind)}`,
    ];
    if (this.o.model === 'open') lines.push(`  late ${fmtInt(stats.late)}   dropped ${fmtInt(stats.dropped)}`);
    if (this.o.mode === 'split') lines.push(`  sent   REST ${fmtInt(stats.rest)}   gRPC ${fmtInt(stats.grpc)}`);
    const clear = this.drawnLines ? `\x1b[${this.drawnLines}A\x1b[J` : '';
    this.out.write(`${clear}${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  /** Leaves the last panel on screen and moves below it. */
  finish(): void {
    this.drawnLines = 0;
  }
}

/** The end-of-run table. */
export function summaryTable(s: LoadSummary): string {
  const rows: [string, string][] = [
    ['duration', `${s.durationSec.toFixed(2)} s`],
    ['requests', fmtInt(s.requests)],
    ['ok (acknowledged)', fmtInt(s.ok)],
    ['errors', `${fmtInt(s.errors)} (${s.errorRatePercent}%)`],
    ['grades acknowledged', fmtInt(s.grades)],
    ['requests/s', fmtInt(s.rps)],
    ['grades/s', fmtInt(s.gradesPerSec)],
  ];
  if (s.model === 'open') rows.push(['late', fmtInt(s.late)], ['dropped', fmtInt(s.dropped)]);
  if (s.mode === 'split')
    rows.push([
      'sent over REST / gRPC',
      `${fmtInt(s.split.rest)} / ${fmtInt(s.split.grpc)} (${s.split.restPercent ?? '-'}% REST)`,
    ]);
  const l = s.latencyMs;
  rows.push(
    ['latency min / mean', `${fmtMs(l.min)} / ${fmtMs(l.mean)}`],
    ['latency p50 / p90 / p95', `${fmtMs(l.p50)} / ${fmtMs(l.p90)} / ${fmtMs(l.p95)}`],
    ['latency p99 / p99.9 / max', `${fmtMs(l.p99)} / ${fmtMs(l.p999)} / ${fmtMs(l.max)}`],
  );
  if (s.errors) rows.push(['errors by kind', errorList(s.errorsByKind, 10)]);
  const w = Math.max(...rows.map((r) => r[0].length));
  const out = [`Summary: ${s.name} (${s.mode}, ${s.model} model)`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)];
  if (s.thresholds.length) {
    out.push('Thresholds:');
    for (const t of s.thresholds) {
      const actual = t.actual === null ? 'no data' : `${t.actual}${t.unit === 'ms' ? ' ms' : t.unit}`;
      out.push(`  ${t.passed ? '✓ pass' : '✗ FAIL'}  ${t.expr.padEnd(18)} actual ${actual}`);
    }
  }
  return `${out.join('\n')}\n`;
}
