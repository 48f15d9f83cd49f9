import type { Config } from '../../config.ts';
import { AppError } from '../../platform/errors.ts';
import { ApertiumProvider } from './apertium.ts';
import { AwsTranslateProvider } from './aws.ts';
import { LibreTranslateProvider } from './libretranslate.ts';
import { NoTranslationProvider, notConfigured } from './none.ts';
import { LANGUAGE_CODE, type LanguagePair, type ProviderName, type TranslationProvider } from './provider.ts';

export type { LanguagePair, ProviderName, TranslationProvider } from './provider.ts';
export { notConfigured } from './none.ts';

export interface TranslatorInfo {
  provider: ProviderName;
  configured: boolean;
  /** False when the provider is configured but cannot be reached; `error` says why. */
  available: boolean;
  pairs: LanguagePair[];
  maxChars: number;
  error?: string;
}

/**
 * The configured provider with the product's rules around it: the text must be non-empty and
 * within the size limit, and the pair must be one the provider has. Every refusal is a 4xx that
 * says what to change; provider trouble is a 502/503/504.
 */
export class Translator {
  constructor(
    readonly provider: TranslationProvider,
    readonly maxChars: number,
  ) {}

  get name(): ProviderName {
    return this.provider.name;
  }

  async info(): Promise<TranslatorInfo> {
    const base = { provider: this.provider.name, configured: this.provider.name !== 'none', maxChars: this.maxChars };
    if (!base.configured) return { ...base, available: false, pairs: [], error: notConfigured().message };
    try {
      return { ...base, available: true, pairs: await this.provider.pairs() };
    } catch (err) {
      return { ...base, available: false, pairs: [], error: (err as Error).message };
    }
  }

  /** Checks a request before any work (and before the cache is consulted). */
  validate(text: string, from: string, to: string): void {
    if (this.provider.name === 'none') throw notConfigured();
    if (text.trim() === '') throw new AppError('empty_text', 400, 'There is no text to translate');
    const length = [...text].length;
    if (length > this.maxChars) {
      throw new AppError(
        'text_too_long',
        413,
        `The text has ${length} characters; at most ${this.maxChars} can be translated at once`,
        {
          length,
          maxChars: this.maxChars,
        },
      );
    }
    for (const [field, code] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (!LANGUAGE_CODE.test(code))
        throw new AppError('invalid_language', 400, `${field}: "${code}" is not a language code such as es or en`);
    }
    if (from === to) throw new AppError('same_language', 400, 'The source and target languages are the same');
  }

  async translate(text: string, from: string, to: string): Promise<string> {
    this.validate(text, from, to);
    const pairs = await this.provider.pairs();
    if (!pairs.some((p) => p.from === from && p.to === to)) {
      throw new AppError(
        'unsupported_language_pair',
        400,
        `${this.provider.name} cannot translate from ${from} to ${to}`,
        {
          provider: this.provider.name,
          pairs,
        },
      );
    }
    return this.provider.translate(text, from, to);
  }
}

export function createTranslator(config: Config): Translator {
  const t = config.translate;
  const provider: TranslationProvider = (() => {
    switch (t.provider) {
      case 'apertium':
        return new ApertiumProvider({ bin: t.apertiumBin, timeoutMs: t.timeoutMs });
      case 'libretranslate':
        return new LibreTranslateProvider({
          url: t.libreTranslateUrl!,
          apiKey: t.libreTranslateApiKey,
          timeoutMs: t.timeoutMs,
        });
      case 'aws':
        return new AwsTranslateProvider({ region: t.awsRegion!, timeoutMs: t.timeoutMs });
      case 'none':
        return new NoTranslationProvider();
    }
  })();
  return new Translator(provider, t.maxChars);
}
