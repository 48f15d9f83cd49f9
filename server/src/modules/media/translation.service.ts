import { createHash } from 'node:crypto';
import { isUniqueViolation } from '../../platform/db/database.ts';
import { newId } from '../../platform/ids.ts';
import type { Translator, TranslatorInfo } from '../../vision/translate/index.ts';
import type { MediaRepository } from './media.repository.ts';

export interface TranslationResult {
  text: string;
  from: string;
  to: string;
  provider: string;
  /** True when the answer came from the SQL cache rather than the provider. */
  cached: boolean;
}

/** Translation through the configured provider, with every answer cached in SQL by text and languages. */
export class TranslationService {
  constructor(
    private readonly repo: MediaRepository,
    private readonly translator: Translator,
  ) {}

  info(): Promise<TranslatorInfo> {
    return this.translator.info();
  }

  async translate(text: string, from: string, to: string): Promise<TranslationResult> {
    this.translator.validate(text, from, to);
    const provider = this.translator.name;
    const key = { sourceSha256: createHash('sha256').update(text).digest('hex'), from, to, provider };
    const hit = await this.repo.findTranslation(key);
    if (hit) return { text: hit.text, from, to, provider, cached: true };
    const out = await this.translator.translate(text, from, to);
    try {
      await this.repo.insertTranslation({
        id: newId(),
        source_sha256: key.sourceSha256,
        source_lang: from,
        target_lang: to,
        provider,
        text: out,
        created_at: Date.now(),
      });
    } catch (err) {
      // Two requests for the same text raced; the first answer stays.
      if (!isUniqueViolation(err)) throw err;
    }
    return { text: out, from, to, provider, cached: false };
  }
}
