import { AppError } from '../../platform/errors.ts';
import type { LanguagePair, TranslationProvider } from './provider.ts';

export interface LibreTranslateOptions {
  url: string;
  apiKey: string | undefined;
  timeoutMs: number;
}

/** A self-hosted LibreTranslate server, over its HTTP API. */
export class LibreTranslateProvider implements TranslationProvider {
  readonly name = 'libretranslate' as const;
  private readonly base: string;

  constructor(private readonly opts: LibreTranslateOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (err) {
      const timeout = (err as Error).name === 'TimeoutError';
      throw new AppError(
        timeout ? 'translation_timeout' : 'translation_unavailable',
        timeout ? 504 : 503,
        timeout ? `LibreTranslate did not answer within ${this.opts.timeoutMs} ms` : 'LibreTranslate cannot be reached',
      );
    }
    const body = (await res.json().catch(() => ({}))) as T & { error?: string };
    if (!res.ok) {
      // The server's message says what is wrong (bad key, unsupported language) without internals.
      const message = typeof body.error === 'string' ? body.error.slice(0, 300) : `HTTP ${res.status}`;
      throw new AppError('translation_failed', 502, `LibreTranslate refused the request: ${message}`);
    }
    return body;
  }

  async pairs(): Promise<LanguagePair[]> {
    const langs = await this.call<{ code: string; targets?: string[] }[]>('/languages');
    const out: LanguagePair[] = [];
    for (const l of langs) {
      const targets = l.targets ?? langs.map((x) => x.code);
      for (const t of targets) if (t !== l.code) out.push({ from: l.code, to: t });
    }
    return out;
  }

  async translate(text: string, from: string, to: string): Promise<string> {
    const r = await this.call<{ translatedText?: unknown }>('/translate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        q: text,
        source: from,
        target: to,
        format: 'text',
        ...(this.opts.apiKey && { api_key: this.opts.apiKey }),
      }),
    });
    if (typeof r.translatedText !== 'string')
      throw new AppError('translation_failed', 502, 'LibreTranslate sent no text');
    return r.translatedText;
  }
}
