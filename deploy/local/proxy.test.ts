import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { io } from 'socket.io-client';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './cluster.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from './proxy.ts';

/** The local cluster's proxy against plain HTTP backends whose behaviour each test chooses. */

interface TestBackend {
  name: string;
  port: number;
  hits: string[];
  close(): Promise<void>;
}

async function backend(
  name: string,
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void = (_req, res) => res.end(name),
): Promise<TestBackend> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url} ${body}`);
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function proxyFor(...backends: { name: string; port: number }[]): Promise<RoundRobinProxy> {
  const proxy = await startRoundRobinProxy({
    port: 0,
    backends: backends.map((b) => ({ name: b.name, host: '127.0.0.1', port: b.port })),
  });
  closers.push(() => proxy.close());
  return proxy;
}

describe('the local cluster proxy', () => {
  it('takes turns between backends and passes bodies, status and headers through', async () => {
    const a = await backend('a', (_req, res, body) => res.writeHead(201, { 'x-from': 'a' }).end(`a:${body}`));
    const b = await backend('b', (_req, res, body) => res.writeHead(201, { 'x-from': 'b' }).end(`b:${body}`));
    closers.push(a.close, b.close);
    const proxy = await proxyFor(a, b);
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${proxy.url}/api/v1/grades`, { method: 'POST', body: `n${i}` });
      expect(res.status).toBe(201);
      answers.push(`${res.headers.get('x-from')} ${await res.text()}`);
    }
    expect(answers).toEqual(['a a:n0', 'b b:n1', 'a a:n2', 'b b:n3']);
    expect(proxy.stats().routed).toEqual({ a: 2, b: 2 });
  });

  it('sends a request to the next backend when the first refuses the connection', async () => {
    const live = await backend('live');
    closers.push(live.close);
    const proxy = await proxyFor({ name: 'gone', port: await freePort() }, live);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${proxy.url}/x`, { method: 'POST', body: `body${i}` });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('live');
    }
    // Nothing of the refused attempt was sent, so the body arrived whole, once.
    expect(live.hits).toEqual(['POST /x body0', 'POST /x body1', 'POST /x body2']);
    expect(proxy.stats().retried).toBeGreaterThanOrEqual(1);
  });

  it('answers 502 and never replays a request whose backend died after receiving it', async () => {
    const dying = await backend('dying', (req) => req.socket.destroy());
    const other = await backend('other');
    closers.push(dying.close, other.close);
    const proxy = await proxyFor(dying, other);
    const res = await fetch(`${proxy.url}/api/v1/grades`, { method: 'POST', body: 'once' });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 502, code: 'upstream_unavailable' });
    expect(dying.hits).toEqual(['POST /api/v1/grades once']);
    expect(other.hits).toEqual([]);
    expect(proxy.stats().failed).toBe(1);
  });

  it('keeps a long-polling Socket.IO session on the backend that opened it, and proxies WebSockets', async () => {
    const servers = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const server = http.createServer();
        const sio = new Server(server);
        sio.on('connection', (s) => s.on('whoami', (ack: (n: string) => void) => ack(name)));
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
        closers.push(
          () =>
            new Promise<void>((r) => {
              void sio.close();
              server.close(() => r());
            }),
        );
        return { name, port: (server.address() as AddressInfo).port };
      }),
    );
    const proxy = await proxyFor(...servers);
    for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']] as const) {
      const seen = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const socket = io(proxy.url, { transports: [...transports], forceNew: true, reconnection: false });
        try {
          await new Promise<void>((resolve, reject) => {
            socket.once('connect', resolve);
            socket.once('connect_error', reject);
          });
          // Several round trips on one session: with polling each is a request of its own.
          const names = [];
          for (let k = 0; k < 5; k++) names.push(await socket.timeout(5000).emitWithAck('whoami'));
          expect(new Set(names).size, transports.join('+')).toBe(1);
          seen.add(names[0] as string);
        } finally {
          socket.close();
        }
      }
      // Sessions themselves are balanced.
      expect([...seen].sort(), transports.join('+')).toEqual(['a', 'b']);
    }
  });
});
