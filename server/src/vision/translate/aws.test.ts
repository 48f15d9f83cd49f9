import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.ts';
import { AwsTranslateProvider } from './aws.ts';
import { wordForWord } from './libretranslate-fixtures.ts';

/*
 * Amazon Translate itself cannot be reached from the test machines. These tests run the real AWS
 * SDK against a local server speaking the service's wire protocol (JSON 1.1, operations named in
 * X-Amz-Target, errors by __type), so what the provider sends and how it reads answers and
 * errors is checked over HTTP; the service's own behaviour is not.
 */

const TARGET = 'AWSShineFrontendService_20170701';

interface Seen {
  operation: string;
  contentType: string | undefined;
  authorization: string;
  body: Record<string, unknown>;
}

async function startFakeTranslate(): Promise<{
  url: string;
  seen: Seen[];
  hang: boolean;
  close(): Promise<void>;
}> {
  const hanging = new Set<http.ServerResponse>();
  const state = { url: '', seen: [] as Seen[], hang: false, close: async () => {} };
  const reply = (res: http.ServerResponse, status: number, body: unknown, errorType?: string) => {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      ...(errorType && { 'x-amzn-errortype': errorType }),
    });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(`${TARGET}.`) ? target.slice(TARGET.length + 1) : target;
      state.seen.push({
        operation,
        contentType: req.headers['content-type'],
        authorization: String(req.headers.authorization ?? ''),
        body,
      });
      if (state.hang) {
        hanging.add(res);
        return;
      }
      if (operation === 'ListLanguages') {
        // Two pages, as the service pages long lists.
        if (!body.NextToken) {
          reply(res, 200, {
            Languages: [
              { LanguageName: 'Auto', LanguageCode: 'auto' },
              { LanguageName: 'Spanish', LanguageCode: 'es' },
            ],
            NextToken: 'page-2',
          });
        } else {
          reply(res, 200, { Languages: [{ LanguageName: 'English', LanguageCode: 'en' }] });
        }
        return;
      }
      if (operation === 'TranslateText') {
        const [from, to] = [String(body.SourceLanguageCode), String(body.TargetLanguageCode)];
        if (!['es', 'en'].includes(from) || !['es', 'en'].includes(to)) {
          reply(
            res,
            400,
            {
              __type: 'com.amazonaws.translate#UnsupportedLanguagePairException',
              Message: `Unsupported language pair: ${from} to ${to}.`,
              SourceLanguageCode: from,
              TargetLanguageCode: to,
            },
            'UnsupportedLanguagePairException',
          );
          return;
        }
        if (String(body.Text).includes('boom')) {
          reply(res, 400, { __type: 'TextSizeLimitExceededException', Message: 'Too long' });
          return;
        }
        reply(res, 200, {
          TranslatedText: wordForWord(String(body.Text), from, to),
          SourceLanguageCode: from,
          TargetLanguageCode: to,
        });
        return;
      }
      reply(res, 400, { __type: 'UnknownOperationException' });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    for (const r of hanging) r.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return state;
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('Amazon Translate provider (against a local server speaking its protocol)', () => {
  let fake: Awaited<ReturnType<typeof startFakeTranslate>>;
  let provider: AwsTranslateProvider;
  const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' };

  beforeAll(async () => {
    fake = await startFakeTranslate();
    provider = new AwsTranslateProvider({ region: 'eu-west-1', timeoutMs: 3000, endpoint: fake.url, credentials });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('lists languages across pages and offers every pair but "auto"', async () => {
    expect(await provider.pairs()).toEqual([
      { from: 'es', to: 'en' },
      { from: 'en', to: 'es' },
    ]);
    expect(fake.seen.map((s) => [s.operation, s.body.NextToken])).toEqual([
      ['ListLanguages', undefined],
      ['ListLanguages', 'page-2'],
    ]);
  });

  it('sends a signed TranslateText request and returns the translated text', async () => {
    expect(await provider.translate('El perro lee un libro.', 'es', 'en')).toBe('The dog reads a book.');
    const req = fake.seen.at(-1)!;
    expect(req.operation).toBe('TranslateText');
    expect(req.contentType).toBe('application/x-amz-json-1.1');
    expect(req.body).toEqual({ Text: 'El perro lee un libro.', SourceLanguageCode: 'es', TargetLanguageCode: 'en' });
    // Signature V4 for the translate service in the configured region.
    expect(req.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\/\d{8}\/eu-west-1\/translate\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );
  });

  it("maps the service's errors and silence to the product's problems", async () => {
    const pair = await failure(provider.translate('Bonjour', 'fr', 'en'));
    expect([pair.code, pair.status, pair.message]).toEqual([
      'unsupported_language_pair',
      400,
      'Unsupported language pair: fr to en.',
    ]);
    const other = await failure(provider.translate('boom', 'es', 'en'));
    expect([other.code, other.status, other.message]).toEqual([
      'translation_failed',
      502,
      'Amazon Translate failed: TextSizeLimitExceededException',
    ]);

    fake.hang = true;
    try {
      const slow = new AwsTranslateProvider({ region: 'eu-west-1', timeoutMs: 300, endpoint: fake.url, credentials });
      const timeout = await failure(slow.translate('Hola', 'es', 'en'));
      expect([timeout.code, timeout.status]).toEqual(['translation_timeout', 504]);
    } finally {
      fake.hang = false;
    }
  });
});
