import { AppError } from '../../platform/errors.ts';
import type { LanguagePair, TranslationProvider } from './provider.ts';

export const notConfigured = () =>
  new AppError(
    'translation_not_configured',
    503,
    'Translation is not configured on this server. An administrator can set TRANSLATE_PROVIDER to apertium (after installing apertium and apertium-eng-spa), libretranslate or aws.',
  );

/** No translator: every request gets a clear "not configured" answer. */
export class NoTranslationProvider implements TranslationProvider {
  readonly name = 'none' as const;

  pairs(): Promise<LanguagePair[]> {
    return Promise.resolve([]);
  }

  translate(): Promise<string> {
    return Promise.reject(notConfigured());
  }
}
