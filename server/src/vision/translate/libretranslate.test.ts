import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.ts';
import { Translator } from './index.ts';
import { LibreTranslateProvider } from './libretranslate.ts';
import { type LibreTranslateServer, startLibreTranslate } from './libretranslate-fixtures.ts';

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('LibreTranslate provider', () => {
  let server: LibreTranslateServer;
  let provider: LibreTranslateProvider;

  beforeAll(async () => {
    server = await startLibreTranslate({ apiKey: 'secret-key', prefix: '/lt' });
    // A trailing slash, as people paste URLs.
    provider = new LibreTranslateProvider({ url: `${server.url}/`, apiKey: 'secret-key', timeoutMs: 2000 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists the language pairs from /languages', async () => {
    expect(await provider.pairs()).toEqual([
      { from: 'en', to: 'es' },
      { from: 'en', to: 'fr' },
      { from: 'es', to: 'en' },
      { from: 'fr', to: 'en' },
    ]);
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/lt/languages' });
  });

  it('takes every other language as a target when the server does not list targets', async () => {
    const old = await startLibreTranslate({
      languages: [
        { code: 'en', name: 'English' },
        { code: 'es', name: 'Spanish' },
        { code: 'pt', name: 'Portuguese' },
      ],
    });
    try {
      const p = new LibreTranslateProvider({ url: old.url, apiKey: undefined, timeoutMs: 2000 });
      expect(await p.pairs()).toHaveLength(6);
      expect(await p.pairs()).toContainEqual({ from: 'pt', to: 'es' });
      // Without a key configured, none is sent.
      expect(await p.translate('Hola mundo.', 'es', 'en')).toBe('Hello world.');
      expect(old.requests.at(-1)!.body).toEqual({ q: 'Hola mundo.', source: 'es', target: 'en', format: 'text' });
    } finally {
      await old.close();
    }
  });

  it('sends the text, languages, format and key as JSON and returns the translated text', async () => {
    const out = await provider.translate('El perro lee un libro.\nHola, mundo.', 'es', 'en');
    expect(out).toBe('The dog reads a book.\nHello, world.');
    expect(server.requests.at(-1)).toEqual({
      method: 'POST',
      path: '/lt/translate',
      contentType: 'application/json',
      body: {
        q: 'El perro lee un libro.\nHola, mundo.',
        source: 'es',
        target: 'en',
        format: 'text',
        api_key: 'secret-key',
      },
    });
  });

  it("reports the server's own refusal, a wrong key included", async () => {
    const wrongKey = new LibreTranslateProvider({ url: server.url, apiKey: 'wrong', timeoutMs: 2000 });
    const denied = await failure(wrongKey.translate('Hola', 'es', 'en'));
    expect([denied.code, denied.status]).toEqual(['translation_failed', 502]);
    expect(denied.message).toBe('LibreTranslate refused the request: Invalid API key');

    const pair = await failure(provider.translate('Hola', 'es', 'fr'));
    expect(pair.message).toBe('LibreTranslate refused the request: fr is not supported');
  });

  it('turns a broken answer, an unreachable server and a silent one into 5xx problems', async () => {
    server.fault = 'html-error';
    try {
      const html = await failure(provider.translate('Hola', 'es', 'en'));
      expect([html.code, html.status, html.message]).toEqual([
        'translation_failed',
        502,
        'LibreTranslate refused the request: HTTP 502',
      ]);
      server.fault = 'no-text';
      const empty = await failure(provider.translate('Hola', 'es', 'en'));
      expect([empty.code, empty.message]).toEqual(['translation_failed', 'LibreTranslate sent no text']);

      server.fault = 'hang';
      const slow = new LibreTranslateProvider({ url: server.url, apiKey: 'secret-key', timeoutMs: 300 });
      const timeout = await failure(slow.translate('Hola', 'es', 'en'));
      expect([timeout.code, timeout.status]).toEqual(['translation_timeout', 504]);
    } finally {
      server.fault = null;
    }

    // A port nobody listens on.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const gone = new LibreTranslateProvider({ url: `http://127.0.0.1:${port}`, apiKey: undefined, timeoutMs: 2000 });
    const unreachable = await failure(gone.pairs());
    expect([unreachable.code, unreachable.status]).toEqual(['translation_unavailable', 503]);
  });

  it('behind the translator, refuses a pair the server lacks before sending the text', async () => {
    const translator = new Translator(provider, 100);
    const before = server.requests.filter((r) => r.path.endsWith('/translate')).length;
    const err = await failure(translator.translate('Bonjour', 'fr', 'es'));
    expect([err.code, err.status]).toEqual(['unsupported_language_pair', 400]);
    expect(server.requests.filter((r) => r.path.endsWith('/translate')).length).toBe(before);
    expect(await translator.translate('Bonjour le monde', 'fr', 'en')).toBe('Hello le world');
    expect(await translator.info()).toMatchObject({ provider: 'libretranslate', configured: true, available: true });
  });
});
