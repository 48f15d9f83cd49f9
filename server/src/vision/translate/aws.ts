import type * as TranslateSdk from '@aws-sdk/client-translate';
import { AppError } from '../../platform/errors.ts';
import type { LanguagePair, TranslationProvider } from './provider.ts';

export interface AwsTranslateOptions {
  region: string;
  timeoutMs: number;
  /** Another endpoint speaking the Amazon Translate API (a VPC endpoint, or a local stand-in in tests). */
  endpoint?: string;
  /** Fixed credentials; by default the SDK's own chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Amazon Translate through the AWS SDK. Credentials come from the SDK's own chain (environment,
 * shared files, instance or pod role); the SDK is loaded only when this provider is chosen.
 */
export class AwsTranslateProvider implements TranslationProvider {
  readonly name = 'aws' as const;
  private client: Promise<{ client: TranslateSdk.TranslateClient; sdk: typeof TranslateSdk }> | undefined;
  private cachedPairs: LanguagePair[] | undefined;

  constructor(private readonly opts: AwsTranslateOptions) {}

  private sdk() {
    this.client ??= import('@aws-sdk/client-translate').then((sdk) => ({
      sdk,
      client: new sdk.TranslateClient({
        region: this.opts.region,
        ...(this.opts.endpoint && { endpoint: this.opts.endpoint }),
        ...(this.opts.credentials && { credentials: this.opts.credentials }),
      }),
    }));
    return this.client;
  }

  private failure(err: unknown): AppError {
    const e = err as { name?: string; message?: string };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new AppError(
        'translation_timeout',
        504,
        `Amazon Translate did not answer within ${this.opts.timeoutMs} ms`,
      );
    }
    if (e.name === 'UnsupportedLanguagePairException' || e.name === 'DetectedLanguageLowConfidenceException') {
      return new AppError('unsupported_language_pair', 400, e.message ?? 'Amazon Translate cannot translate this pair');
    }
    if (e.name === 'CredentialsProviderError') {
      return new AppError('translation_unavailable', 503, 'Amazon Translate has no credentials configured');
    }
    return new AppError('translation_failed', 502, `Amazon Translate failed: ${e.name ?? 'error'}`);
  }

  async pairs(): Promise<LanguagePair[]> {
    if (this.cachedPairs) return this.cachedPairs;
    const { client, sdk } = await this.sdk();
    try {
      const codes: string[] = [];
      let token: string | undefined;
      do {
        const r = await client.send(new sdk.ListLanguagesCommand({ NextToken: token }), {
          abortSignal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        for (const l of r.Languages ?? []) if (l.LanguageCode && l.LanguageCode !== 'auto') codes.push(l.LanguageCode);
        token = r.NextToken;
      } while (token);
      this.cachedPairs = codes.flatMap((from) => codes.filter((to) => to !== from).map((to) => ({ from, to })));
      return this.cachedPairs;
    } catch (err) {
      throw this.failure(err);
    }
  }

  async translate(text: string, from: string, to: string): Promise<string> {
    const { client, sdk } = await this.sdk();
    try {
      const r = await client.send(
        new sdk.TranslateTextCommand({ Text: text, SourceLanguageCode: from, TargetLanguageCode: to }),
        { abortSignal: AbortSignal.timeout(this.opts.timeoutMs) },
      );
      return r.TranslatedText ?? '';
    } catch (err) {
      throw this.failure(err);
    }
  }
}
