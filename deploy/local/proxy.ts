import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A small round-robin reverse proxy for the local cluster, standing where a load balancer or an
 * ingress controller stands in a real deployment.
 *
 * Retries. A request is sent again to the next backend only when the connection to the first
 * was refused, which means not one byte of it left the proxy (the body is not read until the
 * upstream connection is open). Once a request has gone out, a backend that dies answers the
 * client 502: the proxy cannot know whether the backend committed it, so it never replays a
 * request on its own. A client with idempotency keys retries safely; a load generator counts
 * the 502 as an error instead of a silent duplicate.
 *
 * Socket.IO. A WebSocket is one TCP connection, so it stays on the backend it was balanced to.
 * Long-polling is a series of requests that must all reach the backend holding the Engine.IO
 * session: the proxy reads the session id (`sid`) from each handshake answer, remembers its
 * backend, and routes every later poll and the WebSocket upgrade carrying that `sid` there. A
 * session whose backend is gone gets 502, and the client starts a new session elsewhere.
 */

export interface Backend {
  name: string;
  host: string;
  port: number;
}

export interface ProxyStats {
  /** Requests and upgrades answered, by backend name. */
  routed: Record<string, number>;
  /** Requests sent again to another backend after a refused connection. */
  retried: number;
  /** Requests answered 502 by the proxy itself. */
  failed: number;
  /** Engine.IO sessions currently pinned to a backend. */
  stickySessions: number;
}

export interface RoundRobinProxy {
  url: string;
  port: number;
  stats(): ProxyStats;
  close(): Promise<void>;
}

export interface ProxyOptions {
  backends: Backend[];
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** A backend that refused a connection is skipped for this long (default 1 s). */
  downForMs?: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const SOCKET_IO_PATH = '/socket.io/';
/** Sticky entries idle this long are forgotten (Engine.IO pings every 20 s). */
const STICKY_IDLE_MS = 10 * 60_000;
/** Largest Engine.IO handshake answer read to learn its sid (they are a few hundred bytes). */
const HANDSHAKE_MAX_BYTES = 64 * 1024;

export async function startRoundRobinProxy(opts: ProxyOptions): Promise<RoundRobinProxy> {
  if (!opts.backends.length) throw new Error('the proxy needs at least one backend');
  const backends = opts.backends;
  const downForMs = opts.downForMs ?? 1000;
  const downUntil = new Map<string, number>();
  const sticky = new Map<string, { backend: Backend; seen: number }>();
  const stats = { routed: Object.fromEntries(backends.map((b) => [b.name, 0])), retried: 0, failed: 0 };
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
  let next = 0;

  /** The next backend in turn, skipping those that refused a connection a moment ago. */
  const pick = (exclude: ReadonlySet<string>): Backend | undefined => {
    const now = Date.now();
    let fallback: Backend | undefined;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[(next + i) % backends.length];
      if (exclude.has(b.name)) continue;
      if ((downUntil.get(b.name) ?? 0) > now) {
        fallback ??= b;
        continue;
      }
      next = (next + i + 1) % backends.length;
      return b;
    }
    // Every backend looked down: try one anyway rather than refusing without asking.
    return fallback;
  };

  const sidOf = (url: string | undefined): string | undefined => {
    if (!url?.startsWith(SOCKET_IO_PATH)) return undefined;
    return new URL(url, 'http://proxy').searchParams.get('sid') ?? undefined;
  };

  const pinned = (sid: string): Backend | undefined => {
    const s = sticky.get(sid);
    if (s) s.seen = Date.now();
    return s?.backend;
  };

  const sweep = setInterval(() => {
    const old = Date.now() - STICKY_IDLE_MS;
    for (const [sid, s] of sticky) if (s.seen < old) sticky.delete(sid);
  }, 60_000);
  sweep.unref();

  const forwardedHeaders = (req: http.IncomingMessage): Record<string, string> => {
    const prior = req.headers['x-forwarded-for'];
    const client = req.socket.remoteAddress ?? '';
    return {
      'x-forwarded-for': prior ? `${String(prior)}, ${client}` : client,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': req.headers.host ?? '',
    };
  };

  const refused = (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED';

  const fail = (res: http.ServerResponse, message: string) => {
    stats.failed++;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({
      type: 'about:blank',
      title: 'Bad Gateway',
      status: 502,
      code: 'upstream_unavailable',
      detail: message,
    });
    res.writeHead(502, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const sid = sidOf(req.url);
    const isHandshake = req.url?.startsWith(SOCKET_IO_PATH) && !sid && req.method === 'GET';
    const tried = new Set<string>();
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    Object.assign(headers, forwardedHeaders(req));
    // The handshake answer is read to learn its sid, so it must come uncompressed.
    if (isHandshake) delete headers['accept-encoding'];

    let current: http.ClientRequest | undefined;
    const attempt = () => {
      const backend = sid ? pinned(sid) : pick(tried);
      if (!backend) {
        fail(res, sid ? 'This Socket.IO session is unknown or its instance is gone' : 'No backend is available');
        return;
      }
      tried.add(backend.name);
      let sent = false;
      let errored = false;
      const up = (current = http.request({
        host: backend.host,
        port: backend.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      }));
      const send = () => {
        sent = true;
        req.pipe(up);
      };
      up.once('socket', (s: net.Socket) => (s.connecting ? s.once('connect', send) : send()));
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (errored) return;
        errored = true;
        if (!sent && refused(err)) {
          downUntil.set(backend.name, Date.now() + downForMs);
          if (sid) sticky.delete(sid);
          if (!sid && tried.size < backends.length) {
            stats.retried++;
            attempt();
            return;
          }
        }
        fail(res, `${backend.name}: ${err.code ?? err.message}`);
      });
      up.once('response', (upRes) => {
        stats.routed[backend.name]++;
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
        upRes.on('error', () => res.destroy());
        // A backend that dies mid-answer cuts the client off too, rather than ending it short.
        upRes.once('close', () => {
          if (!upRes.complete) res.destroy();
        });
        if (isHandshake && upRes.statusCode === 200) {
          const chunks: Buffer[] = [];
          let size = 0;
          upRes.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= HANDSHAKE_MAX_BYTES) chunks.push(c);
          });
          upRes.once('end', () => {
            const body = Buffer.concat(chunks);
            const m = /"sid":"([^"]+)"/.exec(body.toString('utf8', 0, Math.min(body.length, 2048)));
            if (m) sticky.set(m[1], { backend, seen: Date.now() });
            res.writeHead(upRes.statusCode ?? 502, { ...out, 'content-length': body.length });
            res.end(body);
          });
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, out);
        upRes.pipe(res);
      });
    };

    // A client that goes away takes its upstream request with it.
    res.once('close', () => {
      if (!res.writableFinished) current?.destroy();
    });
    attempt();
  };

  const upgrade = (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const sid = sidOf(req.url);
    const tried = new Set<string>();
    client.on('error', () => {});
    const attempt = () => {
      const backend = sid ? pinned(sid) : pick(tried);
      if (!backend) {
        stats.failed++;
        client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      tried.add(backend.name);
      const up = net.connect(backend.port, backend.host);
      let connected = false;
      up.once('connect', () => {
        connected = true;
        stats.routed[backend.name]++;
        const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
        const raw = req.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) {
          if (!raw[i].toLowerCase().startsWith('x-forwarded-')) lines.push(`${raw[i]}: ${raw[i + 1]}`);
        }
        for (const [k, v] of Object.entries(forwardedHeaders(req))) lines.push(`${k}: ${v}`);
        up.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length) up.write(head);
        up.pipe(client);
        client.pipe(up);
        up.once('close', () => client.destroy());
        client.once('close', () => up.destroy());
      });
      let errored = false;
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (errored) return;
        errored = true;
        if (!connected && refused(err)) {
          downUntil.set(backend.name, Date.now() + downForMs);
          if (sid) sticky.delete(sid);
          if (!sid && tried.size < backends.length) {
            stats.retried++;
            attempt();
            return;
          }
        }
        if (!connected) {
          stats.failed++;
          client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        } else {
          client.destroy();
        }
      });
    };
    attempt();
  };

  const server = http.createServer(handle);
  server.on('upgrade', upgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  // Sockets to clients (WebSockets, keep-alive) are tracked so close() ends them promptly.
  const clients = new Set<net.Socket>();
  server.on('connection', (s) => {
    clients.add(s);
    s.once('close', () => clients.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    port: addr.port,
    stats: () => ({
      routed: { ...stats.routed },
      retried: stats.retried,
      failed: stats.failed,
      stickySessions: sticky.size,
    }),
    close: async () => {
      clearInterval(sweep);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of clients) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}
