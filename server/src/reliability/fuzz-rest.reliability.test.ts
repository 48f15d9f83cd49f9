import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/app.ts';
import { buildToken, buildUser, loginAs, type Session } from '../test/factories.ts';
import { fuzzRuns } from '../test/reliability.ts';
import { fuzzValue, NASTY_STRINGS, rssMiB, RSS_BOUND_BYTES, type JsonSchema } from './fuzz-support.ts';

/**
 * Every REST operation the API publishes, fuzzed through its own schemas: JSON bodies and query
 * strings generated from the OpenAPI document (itself generated from the routes' zod schemas),
 * broken one field at a time, or replaced by junk, sent as an admin, a token client or nobody.
 * Never a 5xx, never over 5 s, memory bounded.
 */

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; schema?: JsonSchema }[];
  body: JsonSchema | undefined;
}

const SLOW_MS = 5_000;

/** Percent-encodes a path segment; a lone surrogate is sent as the broken UTF-8 a hostile client would send. */
function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

describe('REST endpoints under fuzzed JSON bodies and query strings', () => {
  let t: TestApp;
  let admin: Session;
  let token: string;
  let ops: Operation[];
  const realIds: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      env: { LOGIN_RATE_LIMIT_PER_IP: '1000000', LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000', WORKERS: '1' },
    });
    const a = await buildUser(t.ctx, { role: 'admin' });
    admin = await loginAs(t.app, a);
    const teacher = await buildUser(t.ctx, { role: 'teacher' });
    token = await buildToken(t.ctx, teacher.user.id, ['grades:write', 'grades:read']);
    realIds.push(a.user.id, teacher.user.id);
    const doc = t.app.swagger() as {
      paths: Record<
        string,
        Record<
          string,
          { parameters?: Operation['params']; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }
        >
      >;
    };
    ops = [];
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        ops.push({
          method: method.toUpperCase(),
          path: p,
          params: op.parameters ?? [],
          body: op.requestBody?.content?.['application/json']?.schema,
        });
      }
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('publishes the operations it is about to fuzz', () => {
    expect(ops.length).toBeGreaterThan(50);
  });

  it('never answers 5xx, never hangs, whatever the body and query', async () => {
    const pathValue = fc.oneof(
      fc.constantFrom(...realIds),
      fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length < 500)),
      fc.constantFrom('%', '%E0%A4%A', '..', '%2e%2e', '%2F'),
      fc.string({ maxLength: 30 }),
      fc.integer().map(String),
    );
    const caseArb = fc.constantFrom(...ops).chain((op) =>
      fc.record({
        op: fc.constant(op),
        auth: fc.constantFrom('admin', 'token', 'none'),
        pathValues: fc.array(pathValue, { minLength: 4, maxLength: 4 }),
        query: fc.record(
          Object.fromEntries(
            op.params.filter((p) => p.in === 'query').map((p) => [p.name, fuzzValue(p.schema)] as const),
          ),
          { requiredKeys: [] },
        ),
        extraQuery: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 })),
        body: fuzzValue(op.body),
        rawBody: fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '[1,', '{"a":', '\u0000'))),
      }),
    );
    const statuses = new Map<number, number>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        let i = 0;
        const url = c.op.path.replace(/\{[^}]+\}/g, () => encodeSegment(c.pathValues[i++ % 4]));
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries({ ...c.query, ...(c.extraQuery ?? {}) })) {
          for (const item of Array.isArray(v) ? v : [v]) {
            qs.append(k, typeof item === 'string' ? item : JSON.stringify(item));
          }
        }
        const headers: Record<string, string> =
          c.auth === 'admin' ? { ...admin.headers } : c.auth === 'token' ? { authorization: `Bearer ${token}` } : {};
        // Signing out would end the fuzzing session itself: those two run unauthenticated.
        if (/\/auth\/logout/.test(url)) delete headers.cookie;
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(c.op.method) || c.rawBody !== null;
        const t0 = performance.now();
        const res = await t.app.inject({
          method: c.op.method as 'GET',
          url: `${url}${qs.size ? `?${qs.toString()}` : ''}`,
          headers: hasBody ? { ...headers, 'content-type': 'application/json' } : headers,
          ...(hasBody ? { payload: c.rawBody ?? JSON.stringify(c.body ?? null) } : {}),
        });
        const ms = performance.now() - t0;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (++n % 50 === 0) expect(process.memoryUsage().rss, `rss ${rssMiB()} MiB`).toBeLessThan(RSS_BOUND_BYTES);
        const where = `${c.op.method} ${url} ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect(res.statusCode, where).toBeLessThan(500);
        expect(ms, where).toBeLessThan(SLOW_MS);
      }),
      { numRuns: fuzzRuns(400), endOnFailure: true },
    );
    console.info(
      `REST fuzz: ${n} cases over ${ops.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  });
});
