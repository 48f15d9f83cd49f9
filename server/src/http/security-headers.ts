import type { FastifyInstance } from 'fastify';

/**
 * The web app's Content-Security-Policy. No inline script and no eval: `web/index.html` loads one
 * module script from the same origin. Inline styles stay allowed because the component library
 * sets element styles at run time; styles cannot run code. Sockets are same-origin ('self'
 * covers ws: and wss: of this host).
 */
export const DOCUMENT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** JSON, CSV and images: nothing in them may run or be framed, even if opened as a page. */
export const API_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'";

export const HSTS = 'max-age=31536000; includeSubDomains';

type HeaderSet = Readonly<Record<string, string>>;

export interface SecurityHeaderSets {
  api: HeaderSet;
  document: HeaderSet;
  apiTls: HeaderSet;
  documentTls: HeaderSet;
}

export function securityHeaderSets(): SecurityHeaderSets {
  const common = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  const api = Object.freeze({ ...common, 'content-security-policy': API_CSP });
  const document = Object.freeze({
    ...common,
    'content-security-policy': DOCUMENT_CSP,
    'origin-agent-cluster': '?1',
    'x-dns-prefetch-control': 'off',
    'x-permitted-cross-domain-policies': 'none',
    // The webcam pages (face sign-in, live attendance) use the camera; nothing else is needed.
    'permissions-policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()',
  });
  return {
    api,
    document,
    apiTls: Object.freeze({ ...api, 'strict-transport-security': HSTS }),
    documentTls: Object.freeze({ ...document, 'strict-transport-security': HSTS }),
  };
}

/**
 * Sets the security headers of every response from one hook, with header sets built once: the
 * hot ingest route pays for a property copy, not for a policy being rebuilt per request. HSTS is
 * sent only over TLS (PUBLIC_URL on https, or X-Forwarded-Proto: https behind a trusted proxy),
 * since browsers ignore it on plain HTTP and it would pin a development host to https.
 * Routes that need another policy (the API explorer) set their own header, which wins.
 */
export function registerSecurityHeaders(app: FastifyInstance, opts: { publicUrl: string | undefined }): void {
  const sets = securityHeaderSets();
  const alwaysTls = opts.publicUrl?.startsWith('https://') ?? false;
  app.addHook('onRequest', (req, reply, done) => {
    const tls = alwaysTls || req.protocol === 'https';
    const api = req.url.startsWith('/api/');
    void reply.headers(api ? (tls ? sets.apiTls : sets.api) : tls ? sets.documentTls : sets.document);
    done();
  });
}
