import { describe, expect, it } from 'vitest';
import { resolveOptions, UsageError, type RawOptions } from './options.ts';
import { transportFor } from './run.ts';
import { histogramFromPairs, histogramPairs, Stats } from './stats.ts';
import { parseDurationMs, parseRate } from './units.ts';

const base: RawOptions = { target: 'http://localhost:8000', token: 'aula_x' };
const bad = (raw: RawOptions, message: RegExp) => {
  expect(() => resolveOptions({ ...base, ...raw })).toThrow(UsageError);
  expect(() => resolveOptions({ ...base, ...raw })).toThrow(message);
};

describe('load options', () => {
  it('defaults to a closed REST run of 10 users for 30 s', () => {
    const o = resolveOptions(base);
    expect(o).toMatchObject({
      mode: 'rest',
      model: 'closed',
      users: 10,
      durationMs: 30_000,
      batch: 1,
      students: 500,
      method: 'POST',
      path: '/api/v1/grades',
      connections: 10,
      grpc: undefined,
      splitRestPercent: 100,
    });
  });

  it('reads the open model, split mode and the gRPC address', () => {
    const o = resolveOptions({
      ...base,
      mode: 'split',
      split: '30',
      rate: '2000/s',
      duration: '1m',
      maxInflight: '50',
    });
    expect(o).toMatchObject({
      mode: 'split',
      splitRestPercent: 30,
      model: 'open',
      rate: 2000,
      durationMs: 60_000,
      maxInflight: 50,
    });
    expect(o.grpc).toBe('localhost:50051');
    expect(resolveOptions({ ...base, split: '25' }).mode).toBe('split');
    expect(resolveOptions({ ...base, mode: 'grpc', grpc: '10.0.0.5:6000' }).grpc).toBe('10.0.0.5:6000');
    expect(resolveOptions({ mode: 'grpc', grpc: 'ingest:50051', token: 't' }).target).toBeUndefined();
    expect(resolveOptions({ ...base, grpc: 'ingest:50051' }).grpc).toBeUndefined();
    expect(() => resolveOptions({ ...base, grpc: 'ingest' })).toThrow(/host:port/);
  });

  it('keeps the seed reproducible and reads the token from a file', () => {
    expect(resolveOptions({ ...base, seed: '42' }).seed).toBe(42);
    const o = resolveOptions({ target: base.target, tokenFile: '/x/token' }, () => 'aula_from_file\n');
    expect(o.token).toBe('aula_from_file');
  });

  it('needs a token for ingest and for publishing, but not for GET or the self-test', () => {
    bad({ token: undefined }, /needs an API token/);
    expect(resolveOptions({ target: base.target, method: 'GET' }).path).toBe('/health/live');
    expect(resolveOptions({ selfTest: true }).target).toBeUndefined();
    bad({ token: undefined, method: 'GET', publish: true }, /--publish needs an API token/);
  });

  it('generates a run id to publish under, and checks given ones', () => {
    const o = resolveOptions({ ...base, publish: true });
    expect(o.runId).toMatch(/^run-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(resolveOptions({ ...base, publish: true, runId: 'nightly-1' }).runId).toBe('nightly-1');
    bad({ publish: true, runId: 'has space' }, /--run-id/);
    bad({ runId: 'x' }, /--run-id needs --publish/);
  });

  it.each<[RawOptions, RegExp]>([
    [{ mode: 'soap' }, /--mode must be rest, grpc or split/],
    [{ mode: 'rest', split: '30' }, /--split only applies/],
    [{ split: '130' }, /percentage from 0 to 100/],
    [{ users: '0' }, /--users must be between 1/],
    [{ users: 'ten' }, /--users must be a whole number/],
    [{ users: '5', rate: '100/s' }, /either --users .* or --rate/],
    [{ rate: 'fast' }, /--rate: "fast" is not a rate/],
    [{ rate: '100/s', ramp: '5s' }, /--ramp applies to --users/],
    [{ maxInflight: '10' }, /--max-inflight applies to --rate/],
    [{ duration: 'soon' }, /--duration: "soon" is not a duration/],
    [{ duration: '5s', ramp: '10s' }, /--ramp cannot be longer/],
    [{ batch: '1001' }, /--batch must be between 1 and 1000/],
    [{ students: '0' }, /--students/],
    [{ timeout: '0ms' }, /--timeout/],
    [{ target: 'localhost:8000' }, /http:\/\/ or https:\/\//],
    [{ target: 'not a url' }, /not a URL/],
    [{ mode: 'grpc', grpc: 'nohost' }, /host:port/],
    [{ report: ['out.txt'] }, /must end in .json, .csv, .html/],
    [{ threshold: ['p99 < fast'] }, /--threshold/],
    [{ method: 'PUT' }, /--method must be GET or POST/],
    [{ method: 'GET', mode: 'grpc' }, /GET only works with --mode rest/],
    [{ method: 'GET', batch: '5' }, /--batch needs --method POST/],
    [{ token: 'a b' }, /one word/],
    [{ tokenFile: 'f' }, /--token or --token-file, not both/],
    [{ selfTest: true, publish: true }, /--self-test cannot --publish/],
    [{ rate: '1/m', duration: '1s' }, /schedules no request/],
  ])('rejects %j', (raw, message) => bad(raw, message));
});

describe('units', () => {
  it('parses durations and rates', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('2')).toBe(2000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseRate('2000/s')).toBe(2000);
    expect(parseRate('1.5k/s')).toBe(1500);
    expect(parseRate('120/m')).toBe(2);
    expect(() => parseDurationMs('5 minutes')).toThrow();
    expect(() => parseRate('0/s')).toThrow();
  });
});

describe('split transport choice', () => {
  it.each([0, 1, 30, 50, 33.33, 99, 100])('sends %s%% over REST within one request, over any prefix', (p) => {
    let rest = 0;
    for (let k = 0; k < 10_000; k++) {
      if (transportFor(k, p) === 'rest') rest++;
      expect(Math.abs(rest - ((k + 1) * p) / 100)).toBeLessThanOrEqual(1);
    }
  });
});

describe('run statistics', () => {
  it('buckets completions by second and keeps exact totals', () => {
    const s = new Stats(1000, Date.UTC(2025, 0, 1, 12, 0, 0, 400));
    s.sent('rest', false, 1498);
    s.record({ ok: true, grades: 5 }, 2, 1500);
    s.sent('grpc', true, 1870);
    s.record({ ok: false, kind: 'http_503' }, 30, 1900);
    s.sent('rest', false, 3196);
    s.record({ ok: true, grades: 5 }, 4, 3200);
    s.advance(4100);
    // The current second (3) saw nothing, so closing the run adds no empty trailing second.
    s.flush();
    const t = s.takeClosed();
    expect(t.map((x) => [x.second, x.requests, x.ok, x.errors, x.grades])).toEqual([
      [0, 2, 1, 1, 5],
      [1, 0, 0, 0, 0],
      [2, 1, 1, 0, 5],
    ]);
    expect(t[0]).toMatchObject({ rest: 1, grpc: 1, late: 1, errorsByKind: { http_503: 1 } });
    expect(t[0].epochSecond).toBe(Date.UTC(2025, 0, 1, 12, 0, 0) / 1000);
    expect(t[1].p99).toBeNull();
    expect(s.takeClosed()).toEqual([]);
    expect({ requests: s.requests, ok: s.ok, errors: s.errors, grades: s.grades, inflight: s.inflight }).toEqual({
      requests: 3,
      ok: 2,
      errors: 1,
      grades: 10,
      inflight: 0,
    });
  });

  it('exports the histogram as pairs that merge back exactly', () => {
    const s = new Stats(0, 0);
    for (let i = 1; i <= 5000; i++) {
      s.sent('rest', false, 10);
      s.record({ ok: true, grades: 1 }, i / 100, 10);
    }
    const pairs = histogramPairs(s.total);
    expect(pairs.reduce((a, [, n]) => a + n, 0)).toBe(5000);
    const merged = histogramFromPairs(pairs, pairs);
    expect(merged.totalCount).toBe(10_000);
    expect(merged.getValueAtPercentile(99)).toBe(s.total.getValueAtPercentile(99));
  });
});
