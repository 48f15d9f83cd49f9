import { describe, expect, it } from 'vitest';
import { evaluateThresholds, parseThreshold, ThresholdSyntaxError, type ThresholdInput } from './thresholds.ts';

const run: ThresholdInput = {
  requests: 10_000,
  ok: 9_992,
  errors: 8,
  grades: 9_990,
  rps: 1_666.7,
  gradesPerSec: 1_665,
  dropped: 0,
  late: 25,
  latencyMs: { p50: 2.1, p75: 3, p90: 4.5, p95: 6.2, p99: 41.3, p999: 80, max: 120.5, min: 0.4, mean: 3.3 },
};

describe('threshold parser', () => {
  it('parses latency thresholds in ms, s and us', () => {
    expect(parseThreshold('p99<50ms')).toMatchObject({ metric: 'p99', op: '<', value: 50, percent: false });
    expect(parseThreshold(' p95 <= 0.2s ')).toMatchObject({ metric: 'p95', op: '<=', value: 200 });
    expect(parseThreshold('p50<800us')).toMatchObject({ metric: 'p50', value: 0.8 });
    expect(parseThreshold('max<1000')).toMatchObject({ metric: 'max', value: 1000 });
    expect(parseThreshold('p99.9<100ms')).toMatchObject({ metric: 'p99.9', value: 100 });
    expect(parseThreshold('P90<5ms').metric).toBe('p90');
  });

  it('parses error rates, error counts and throughput', () => {
    expect(parseThreshold('errors<0.1%')).toMatchObject({ metric: 'errors', op: '<', value: 0.1, percent: true });
    expect(parseThreshold('errors<5')).toMatchObject({ metric: 'errors', value: 5, percent: false });
    expect(parseThreshold('rps>1000')).toMatchObject({ metric: 'rps', op: '>', value: 1000 });
    expect(parseThreshold('rps>=1000/s')).toMatchObject({ metric: 'rps', op: '>=', value: 1000 });
    expect(parseThreshold('dropped==0')).toMatchObject({ metric: 'dropped', op: '==', value: 0 });
  });

  it.each([
    ['p99', /form/],
    ['p99 50ms', /form/],
    ['latency<5ms', /unknown metric/],
    ['p42<5ms', /unknown metric/],
    ['p99<5%', /takes a time/],
    ['errors<5ms', /count or a percentage/],
    ['errors<150%', /cannot exceed 100/],
    ['rps>10ms', /per second/],
    ['requests>10%', /plain number/],
    ['p99<-5ms', /form/],
  ])('rejects %s', (expr, message) => {
    expect(() => parseThreshold(expr)).toThrow(ThresholdSyntaxError);
    expect(() => parseThreshold(expr)).toThrow(message);
  });
});

describe('threshold evaluation', () => {
  it('passes and fails against a run', () => {
    const results = evaluateThresholds(
      [
        'p99<50ms',
        'p99<40ms',
        'errors<0.1%',
        'errors<0.05%',
        'errors<=10',
        'rps>1000',
        'rps>2000',
        'max<1s',
        'late<1%',
      ].map(parseThreshold),
      run,
    );
    expect(results.map((r) => [r.expr, r.passed])).toEqual([
      ['p99<50ms', true],
      ['p99<40ms', false],
      ['errors<0.1%', true],
      ['errors<0.05%', false],
      ['errors<=10', true],
      ['rps>1000', true],
      ['rps>2000', false],
      ['max<1s', true],
      ['late<1%', true],
    ]);
    expect(results[0]).toMatchObject({ actual: 41.3, limit: 50, unit: 'ms' });
    expect(results[2]).toMatchObject({ actual: 0.08, unit: '%' });
  });

  it('fails latency thresholds when nothing was measured', () => {
    const [r] = evaluateThresholds([parseThreshold('p99<50ms')], {
      ...run,
      requests: 0,
      latencyMs: {
        p50: null,
        p75: null,
        p90: null,
        p95: null,
        p99: null,
        p999: null,
        max: null,
        min: null,
        mean: null,
      },
    });
    expect(r).toMatchObject({ actual: null, passed: false });
  });

  it('counts dropped requests in error and drop rates', () => {
    const [drop] = evaluateThresholds([parseThreshold('dropped<1%')], { ...run, requests: 900, dropped: 100 });
    expect(drop.actual).toBe(10);
    expect(drop.passed).toBe(false);
  });
});
