import * as grpc from '@grpc/grpc-js';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGrpcServer, type GrpcServerHandle } from '../grpc/server.ts';
import { routeTable } from '../http/route-table.ts';
import { TOKEN_ROUTES } from '../http/token-scopes.ts';
import { SCOPES, SYSTEM_ACTOR, type Role as ActorRole, type Scope } from '../modules/identity/actor.ts';
import { gradesClientConstructor, type GradeMessage } from '../modules/grades/grades.proto.ts';
import { createLiveTestApp, join, openSocket, type LiveTestApp } from '../realtime/test-support.ts';
import { buildUser, loginAs, type Session } from '../test/factories.ts';
import { AccessWorld, type UserKey } from './access-fixtures.ts';
import {
  GRPC_RULES,
  OWNERSHIPS,
  PUBLIC_ROUTES,
  REST_RULES,
  ROOM_RULES,
  ruleKey,
  type Decision,
  type Ownership,
  type Role,
  type RouteRule,
  type TokenAccess,
} from './access-matrix.ts';
import { REQUESTS, type MatrixRequest, type RequestContext } from './access-requests.ts';

const PRINCIPAL: Record<Role, UserKey> = { admin: 'admin', teacher: 'teacherA', student: 'studentA' };

/** Routes that end or replace the caller's session: their cells run as a throwaway user of the role. */
const SESSION_ENDING = new Set([
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/logout-all',
  'POST /api/v1/me/password',
]);

const NON_ADMIN_SCOPES = SCOPES.filter((s) => s !== 'admin');

interface Cell {
  label: string;
  kind: 'anonymous' | 'role' | 'token';
  role?: Role;
  ownership: Ownership | 'any';
  expect: Decision;
  /** For token cells: the scopes the token carries. */
  scopes?: readonly Scope[];
}

/** Every cell of a route, as the matrix states it. */
function cellsOf(rule: RouteRule): Cell[] {
  const out: Cell[] = [];
  const first = OWNERSHIPS[rule.target][0];
  out.push({ label: 'anonymous', kind: 'anonymous', ownership: first, expect: rule.anonymous });
  for (const role of ['admin', 'teacher', 'student'] as const) {
    for (const own of OWNERSHIPS[rule.target]) {
      const d = rule.cells[role][own];
      if (d) out.push({ label: `${role} · ${own}`, kind: 'role', role, ownership: own, expect: d });
    }
  }
  out.push(...tokenCells(rule.token, first));
  return out;
}

function tokenCells(token: TokenAccess, ownership: Ownership | 'any'): Cell[] {
  if (token === 'any') {
    return [{ label: 'token · any scope', kind: 'token', ownership, expect: 'allow', scopes: ['grades:read'] }];
  }
  if (token === 'none') {
    return [
      { label: 'token · every scope but admin', kind: 'token', ownership, expect: 'deny', scopes: NON_ADMIN_SCOPES },
    ];
  }
  return [
    { label: `token · ${token.join('|')}`, kind: 'token', ownership, expect: 'allow', scopes: token },
    {
      label: 'token · every other scope',
      kind: 'token',
      ownership,
      expect: 'deny',
      scopes: NON_ADMIN_SCOPES.filter((s) => !token.includes(s)),
    },
  ];
}

/** Whose token a token cell uses: the first role the route allows on its own resources. */
function tokenOwner(rule: RouteRule): Role {
  for (const role of ['teacher', 'student', 'admin'] as const) {
    const c = rule.cells[role];
    if (c.own === 'allow' || c.any === 'allow') return role;
  }
  return 'admin';
}

describe('authorization matrix', () => {
  let t: LiveTestApp;
  let w: AccessWorld;
  const tokens = new Map<string, string>();
  const tally = { cells: 0, allowed: 0, denied401: 0, denied403: 0, denied404: 0 };

  beforeAll(async () => {
    t = await createLiveTestApp({
      env: { LOGIN_RATE_LIMIT_PER_IP: '100000', LOGIN_RATE_LIMIT_PER_ACCOUNT: '100000' },
    });
    w = await new AccessWorld(t.app, t.ctx).build();
  }, 120_000);

  afterAll(async () => {
    // The figures quoted in docs/reliability.md.
    console.info(`authorization matrix: ${JSON.stringify(tally)}`);
    await t?.close();
  });

  async function tokenFor(owner: UserKey, scopes: readonly Scope[]): Promise<string> {
    const key = `${owner}:${[...scopes].sort().join(',')}`;
    let token = tokens.get(key);
    if (!token) {
      ({ token } = await t.ctx.identity.createApiToken(SYSTEM_ACTOR, {
        userId: w.id(owner),
        name: `matrix ${key}`.slice(0, 100),
        scopes: [...scopes],
      }));
      tokens.set(key, token);
    }
    return token;
  }

  async function throwaway(role: ActorRole): Promise<{ key: UserKey; session: Session }> {
    const built = await buildUser(t.ctx, { role });
    return { key: PRINCIPAL[role], session: await loginAs(t.app, built) };
  }

  async function send(req: MatrixRequest, method: string, auth: Record<string, string>) {
    const res = await t.app.inject({
      method: method as 'GET',
      url: req.url,
      headers: { ...auth, ...req.headers },
      ...(req.payload === undefined ? {} : { payload: req.payload }),
    });
    return res;
  }

  describe('REST', () => {
    it('has a matrix entry and a request for every route the server registers, and no stale entry', () => {
      const registered = routeTable(t.app)
        .filter((r) => r.method !== 'HEAD')
        .map((r) => ruleKey(r.method, r.url));
      const listed = new Set([...REST_RULES.map((r) => ruleKey(r.method, r.url)), ...PUBLIC_ROUTES]);
      expect(registered.filter((r) => !listed.has(r))).toEqual([]);
      expect([...listed].filter((r) => !registered.includes(r))).toEqual([]);
      expect(REST_RULES.map((r) => ruleKey(r.method, r.url)).filter((k) => !REQUESTS[k])).toEqual([]);
    });

    it('opens each route to the same tokens as the token route table', () => {
      for (const r of REST_RULES) {
        const key = ruleKey(r.method, r.url);
        const table = TOKEN_ROUTES[key];
        if (r.token === 'none') expect(table, key).toBeUndefined();
        else if (r.token === 'any') expect(table, key).toEqual([]);
        else expect(table, key).toEqual(r.token);
      }
    });

    for (const rule of REST_RULES) {
      const key = ruleKey(rule.method, rule.url);
      describe(key, () => {
        for (const cell of cellsOf(rule)) {
          it(`${cell.label} → ${cell.expect}`, async () => {
            let me: UserKey;
            let auth: Record<string, string> = {};
            if (cell.kind === 'anonymous') {
              me = 'admin';
            } else if (cell.kind === 'role') {
              if (SESSION_ENDING.has(key)) {
                const s = await throwaway(cell.role!);
                me = s.key;
                auth = s.session.headers;
              } else {
                me = PRINCIPAL[cell.role!];
                auth = w.sessions[me].headers;
              }
            } else {
              me = PRINCIPAL[tokenOwner(rule)];
              auth = { authorization: `Bearer ${await tokenFor(me, cell.scopes!)}` };
            }
            const ctx: RequestContext = { w, me, ownership: cell.ownership };
            const req = await REQUESTS[key](ctx);
            const res = await send(req, rule.method, auth);
            const where = `${key} as ${cell.label}: ${res.statusCode} ${res.body.slice(0, 300)}`;
            expect(res.statusCode, where).toBeLessThan(500);
            tally.cells++;
            if (cell.expect === 'allow') {
              expect([401, 403, 404], where).not.toContain(res.statusCode);
              tally.allowed++;
            } else if (cell.kind === 'anonymous') {
              expect(res.statusCode, where).toBe(401);
              tally.denied401++;
            } else {
              expect([403, 404], where).toContain(res.statusCode);
              if (res.statusCode === 403) tally.denied403++;
              else tally.denied404++;
            }
          });
        }
      });
    }
  });

  describe('Socket.IO rooms', () => {
    const sockets: Socket[] = [];
    afterAll(() => {
      for (const s of sockets) s.close();
    });

    async function socketAs(auth: { cookie?: string; token?: string }): Promise<Socket> {
      const s = await openSocket(t.url, auth);
      sockets.push(s);
      return s;
    }

    /** The room a rule names, for the resource of the given ownership. */
    async function roomFor(pattern: string, me: UserKey, ownership: Ownership | 'any'): Promise<string> {
      const cls = ownership === 'otherTeacher' ? 'B' : 'A';
      const owner: UserKey = ownership === 'otherTeacher' ? 'teacherB' : ownership === 'otherStudent' ? 'studentB' : me;
      switch (pattern) {
        case 'grades':
          return 'grades';
        case 'grades:<course>:<semester>':
          return `grades:${w.courseCode}:${w.year}-1`;
        case 'session:<id>':
          return `session:${(await w.scene(cls)).sessionId}`;
        case 'capture:<id>':
          return `capture:${(await w.scene(cls)).captureId}`;
        case 'job:<id>':
          return `job:${(await w.analysis(owner)).id}`;
        default:
          return 'nowhere:1';
      }
    }

    it('refuses a socket without credentials', async () => {
      await expect(openSocket(t.url)).rejects.toThrow();
    });

    for (const rule of ROOM_RULES) {
      describe(rule.room, () => {
        for (const role of ['admin', 'teacher', 'student'] as const) {
          for (const own of OWNERSHIPS[rule.target]) {
            const d = rule.cells[role][own];
            if (!d) continue;
            it(`${role} · ${own} → ${d}`, async () => {
              const me = PRINCIPAL[role];
              const cookie = w.sessions[me].headers.cookie;
              const socket = await socketAs({ cookie });
              const ack = await join(socket, await roomFor(rule.room, me, own));
              expect(ack.ok, JSON.stringify(ack)).toBe(d === 'allow');
            });
          }
        }
        const first = OWNERSHIPS[rule.target][0];
        for (const cell of tokenCells(rule.token, first)) {
          it(`${cell.label} → ${cell.expect}`, async () => {
            const me: UserKey =
              rule.cells.teacher.own === 'allow' || rule.cells.teacher.any === 'allow' ? 'teacherA' : 'admin';
            const socket = await socketAs({ token: await tokenFor(me, cell.scopes!) });
            const ack = await join(socket, await roomFor(rule.room, me, first));
            expect(ack.ok, JSON.stringify(ack)).toBe(cell.expect === 'allow');
          });
        }
      });
    }
  });

  describe('gRPC', () => {
    let server: GrpcServerHandle;
    let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

    beforeAll(async () => {
      server = await startGrpcServer(t.ctx, { host: '127.0.0.1', port: 0 });
      const Ctor = gradesClientConstructor();
      client = new Ctor(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as typeof client;
    });
    afterAll(async () => {
      client?.close();
      await server?.stop(1000);
    });

    const grade = (): Partial<GradeMessage> => ({
      student_code: 'GRPC1',
      student_name: 'Grpc Student',
      course_code: w.courseCode,
      semester: 1,
      year: w.year,
      score: 70,
    });

    function callMethod(method: string, md: grpc.Metadata): Promise<grpc.status> {
      return new Promise((resolve) => {
        const done = (err: grpc.ServiceError | null) => resolve(err ? err.code : grpc.status.OK);
        if (method === 'SubmitStream') {
          const s = (client.SubmitStream as (md: grpc.Metadata, cb: typeof done) => grpc.ClientWritableStream<unknown>)(
            md,
            done,
          );
          s.write(grade());
          s.end();
        } else if (method === 'SubmitBatch') {
          (client.SubmitBatch as (r: unknown, md: grpc.Metadata, cb: typeof done) => void)(
            { grades: [grade()] },
            md,
            done,
          );
        } else {
          (client.Submit as (r: unknown, md: grpc.Metadata, cb: typeof done) => void)(grade(), md, done);
        }
      });
    }

    const meta = (token?: string) => {
      const md = new grpc.Metadata();
      if (token) md.set('authorization', `Bearer ${token}`);
      return md;
    };

    for (const rule of GRPC_RULES) {
      it(`${rule.method}: no token → UNAUTHENTICATED`, async () => {
        expect(await callMethod(rule.method, meta())).toBe(grpc.status.UNAUTHENTICATED);
      });
      it(`${rule.method}: a session cookie is not a credential → UNAUTHENTICATED`, async () => {
        const md = meta();
        md.set('cookie', w.sessions.admin.headers.cookie);
        expect(await callMethod(rule.method, md)).toBe(grpc.status.UNAUTHENTICATED);
      });
      for (const role of ['admin', 'teacher', 'student'] as const) {
        it(`${rule.method}: ${role}'s token with ${rule.token.join('|')} → OK`, async () => {
          expect(await callMethod(rule.method, meta(await tokenFor(PRINCIPAL[role], rule.token)))).toBe(grpc.status.OK);
        });
        it(`${rule.method}: ${role}'s token with every other scope → PERMISSION_DENIED`, async () => {
          const others = NON_ADMIN_SCOPES.filter((s) => !rule.token.includes(s));
          expect(await callMethod(rule.method, meta(await tokenFor(PRINCIPAL[role], others)))).toBe(
            grpc.status.PERMISSION_DENIED,
          );
        });
      }
      it(`${rule.method}: a revoked token → UNAUTHENTICATED`, async () => {
        const { token, row } = await t.ctx.identity.createApiToken(SYSTEM_ACTOR, {
          userId: w.id('teacherA'),
          name: 'revoked',
          scopes: [...rule.token],
        });
        await t.ctx.identity.revokeApiToken(SYSTEM_ACTOR, row.id);
        expect(await callMethod(rule.method, meta(token))).toBe(grpc.status.UNAUTHENTICATED);
      });
    }
  });
});
