/**
 * k6-style pass/fail criteria: `p99<50ms`, `errors<0.1%`, `errors<5`, `rps>1000`.
 * A run whose thresholds fail exits with THRESHOLD_EXIT_CODE so CI can gate on it.
 */

export const THRESHOLD_EXIT_CODE = 99;

const LATENCY_METRICS = ['p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'max', 'min', 'mean', 'avg'] as const;
const COUNT_METRICS = ['errors', 'dropped', 'late'] as const;
const PLAIN_METRICS = ['rps', 'requests', 'ok', 'grades', 'grades_per_sec'] as const;

type LatencyMetric = (typeof LATENCY_METRICS)[number];
type CountMetric = (typeof COUNT_METRICS)[number];
type PlainMetric = (typeof PLAIN_METRICS)[number];
export type Metric = LatencyMetric | CountMetric | PlainMetric;
export type Operator = '<' | '<=' | '>' | '>=' | '==';

export interface Threshold {
  /** As written by the user. */
  expr: string;
  metric: Metric;
  op: Operator;
  /** Latency in milliseconds; a rate in percent when `percent`; otherwise a plain number. */
  value: number;
  percent: boolean;
}

/** What thresholds are checked against: the run's totals. */
export interface ThresholdInput {
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  rps: number;
  gradesPerSec: number;
  dropped: number;
  late: number;
  latencyMs: Record<'p50' | 'p75' | 'p90' | 'p95' | 'p99' | 'p999' | 'max' | 'min' | 'mean', number | null>;
}

export interface ThresholdResult {
  expr: string;
  metric: Metric;
  op: Operator;
  limit: number;
  unit: 'ms' | '%' | '';
  actual: number | null;
  passed: boolean;
}

export class ThresholdSyntaxError extends Error {}

const PATTERN = /^\s*([a-z_]+|p\d+(?:\.\d+)?)\s*(<=|>=|==|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|us|µs|%|\/s)?\s*$/i;

export function parseThreshold(expr: string): Threshold {
  const m = PATTERN.exec(expr);
  if (!m) {
    throw new ThresholdSyntaxError(
      `threshold "${expr}" is not of the form <metric><op><value>, e.g. p99<50ms, errors<0.1%, rps>1000`,
    );
  }
  const metric = m[1].toLowerCase() as Metric;
  const op = m[2] as Operator;
  let value = Number(m[3]);
  const unit = (m[4] ?? '').toLowerCase();
  const all: readonly string[] = [...LATENCY_METRICS, ...COUNT_METRICS, ...PLAIN_METRICS];
  if (!all.includes(metric)) {
    throw new ThresholdSyntaxError(`threshold "${expr}": unknown metric "${m[1]}"; use one of ${all.join(', ')}`);
  }
  let percent = false;
  if ((LATENCY_METRICS as readonly string[]).includes(metric)) {
    if (unit === 's') value *= 1000;
    else if (unit === 'us' || unit === 'µs') value /= 1000;
    else if (unit !== 'ms' && unit !== '') {
      throw new ThresholdSyntaxError(`threshold "${expr}": ${metric} takes a time (ms, s or us)`);
    }
  } else if ((COUNT_METRICS as readonly string[]).includes(metric)) {
    if (unit === '%') percent = true;
    else if (unit !== '')
      throw new ThresholdSyntaxError(`threshold "${expr}": ${metric} takes a count or a percentage`);
    if (percent && value > 100) throw new ThresholdSyntaxError(`threshold "${expr}": a percentage cannot exceed 100`);
  } else if (metric === 'rps' || metric === 'grades_per_sec') {
    if (unit !== '' && unit !== '/s')
      throw new ThresholdSyntaxError(`threshold "${expr}": ${metric} takes a number per second`);
  } else if (unit !== '') {
    throw new ThresholdSyntaxError(`threshold "${expr}": ${metric} takes a plain number`);
  }
  return { expr: expr.trim(), metric, op, value, percent };
}

function actualOf(t: Threshold, s: ThresholdInput): number | null {
  switch (t.metric) {
    case 'p50':
    case 'p75':
    case 'p90':
    case 'p95':
    case 'p99':
    case 'max':
    case 'min':
    case 'mean':
      return s.latencyMs[t.metric];
    case 'avg':
      return s.latencyMs.mean;
    case 'p99.9':
      return s.latencyMs.p999;
    case 'errors':
    case 'dropped':
    case 'late': {
      const n = s[t.metric];
      if (!t.percent) return n;
      // Rates are relative to everything that was due: completed requests plus dropped ones.
      const base = s.requests + s.dropped;
      return base === 0 ? 0 : (n / base) * 100;
    }
    case 'rps':
      return s.rps;
    case 'grades_per_sec':
      return s.gradesPerSec;
    case 'requests':
    case 'ok':
    case 'grades':
      return s[t.metric];
  }
}

function compare(a: number, op: Operator, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
  }
}

export function evaluateThresholds(thresholds: readonly Threshold[], s: ThresholdInput): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = actualOf(t, s);
    const isLatency = (LATENCY_METRICS as readonly string[]).includes(t.metric);
    return {
      expr: t.expr,
      metric: t.metric,
      op: t.op,
      limit: t.value,
      unit: isLatency ? 'ms' : t.percent ? '%' : '',
      actual: actual === null ? null : Math.round(actual * 1000) / 1000,
      // A latency threshold with nothing measured cannot be said to pass.
      passed: actual !== null && compare(actual, t.op, t.value),
    };
  });
}
