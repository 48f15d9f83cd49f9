import http from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A small LibreTranslate server for tests: the same HTTP API (GET /languages, POST /translate
 * with a JSON or form body, `{ error }` answers with LibreTranslate's status codes), a word list
 * instead of a neural model. The provider talks to it over real HTTP, exactly as to the real one.
 */

export interface LibreLanguage {
  code: string;
  name: string;
  /** Left out by older LibreTranslate servers, which translate between every pair they list. */
  targets?: string[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown> | null;
}

export interface LibreTranslateServer {
  url: string;
  requests: ReceivedRequest[];
  /** Makes the next answers misbehave the way a broken server or proxy does. */
  fault: null | 'hang' | 'html-error' | 'no-text';
  close(): Promise<void>;
}

export const LIBRE_LANGUAGES: LibreLanguage[] = [
  { code: 'en', name: 'English', targets: ['es', 'fr'] },
  { code: 'es', name: 'Spanish', targets: ['en'] },
  { code: 'fr', name: 'French', targets: ['en'] },
];

const WORDS: Record<string, Record<string, string>> = {
  'es>en': {
    el: 'the',
    la: 'the',
    perro: 'dog',
    gato: 'cat',
    lee: 'reads',
    come: 'eats',
    un: 'a',
    una: 'a',
    libro: 'book',
    manzana: 'apple',
    hola: 'hello',
    mundo: 'world',
  },
  'en>es': { the: 'el', dog: 'perro', reads: 'lee', a: 'un', book: 'libro', hello: 'hola', world: 'mundo' },
  'en>fr': { hello: 'bonjour', world: 'monde' },
  'fr>en': { bonjour: 'hello', monde: 'world' },
};

/** Word by word, keeping case of the first letter and everything that is not a word. */
export function wordForWord(text: string, source: string, target: string): string {
  const words = WORDS[`${source}>${target}`] ?? {};
  return text.replace(/\p{L}+/gu, (w) => {
    const t = words[w.toLowerCase()];
    if (!t) return w;
    return w[0] === w[0].toUpperCase() ? t[0].toUpperCase() + t.slice(1) : t;
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return null;
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

/**
 * Starts the server on a free local port. With `apiKey`, /translate wants that key (as
 * LibreTranslate does with --api-keys); `prefix` serves the API under a path, as behind a proxy.
 */
export async function startLibreTranslate(
  opts: { apiKey?: string; languages?: LibreLanguage[]; prefix?: string } = {},
): Promise<LibreTranslateServer> {
  const languages = opts.languages ?? LIBRE_LANGUAGES;
  const prefix = opts.prefix ?? '';
  const hanging = new Set<http.ServerResponse>();
  const state: LibreTranslateServer = {
    url: '',
    requests: [],
    fault: null,
    close: async () => {
      for (const r of hanging) r.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0];
      state.requests.push({ method: req.method ?? '', path, contentType: req.headers['content-type'], body });
      if (state.fault === 'hang') {
        hanging.add(res);
        return;
      }
      if (state.fault === 'html-error') {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><body>Bad Gateway</body></html>');
        return;
      }
      if (req.method === 'GET' && path === `${prefix}/languages`) {
        send(res, 200, languages);
        return;
      }
      if (req.method === 'POST' && path === `${prefix}/translate`) {
        const b = body ?? {};
        if (opts.apiKey && b.api_key !== opts.apiKey) {
          send(res, 403, { error: 'Invalid API key' });
          return;
        }
        for (const field of ['q', 'source', 'target'] as const) {
          if (typeof b[field] !== 'string' || b[field] === '') {
            send(res, 400, { error: `Invalid request: missing ${field} parameter` });
            return;
          }
        }
        const [q, source, target] = [b.q as string, b.source as string, b.target as string];
        const from = languages.find((l) => l.code === source);
        if (!from) {
          send(res, 400, { error: `${source} is not supported` });
          return;
        }
        if (!(from.targets ?? languages.map((l) => l.code)).includes(target)) {
          send(res, 400, { error: `${target} is not supported` });
          return;
        }
        if (state.fault === 'no-text') {
          send(res, 200, { detectedLanguage: { language: source, confidence: 90 } });
          return;
        }
        send(res, 200, { translatedText: wordForWord(q, source, target) });
        return;
      }
      send(res, 404, { error: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`;
  return state;
}
