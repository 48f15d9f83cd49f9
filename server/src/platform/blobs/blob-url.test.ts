import { describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../config.ts';
import { BlobUrlError, parseBlobUrl } from './blob-url.ts';

const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

describe('BLOB_URL parsing', () => {
  it('reads a file folder', () => {
    expect(parseBlobUrl('file:./data/blobs')).toEqual({ kind: 'file', root: './data/blobs' });
    expect(parseBlobUrl('file:///var/aula/blobs')).toEqual({ kind: 'file', root: '/var/aula/blobs' });
  });

  it('reads every S3 parameter, with an unencoded endpoint', () => {
    const u = parseBlobUrl(
      's3://aula-blobs/tenant-a?endpoint=http://127.0.0.1:9000&region=eu-west-1&forcePathStyle=true' +
        '&accessKeyId=AKIA1&secretAccessKey=s%2Bcr3t/x&create=true&timeoutMs=2000&connectTimeoutMs=500&maxAttempts=1',
    );
    expect(u).toEqual({
      kind: 's3',
      bucket: 'aula-blobs',
      prefix: 'tenant-a/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's+cr3t/x' },
      create: true,
      timeoutMs: 2000,
      connectTimeoutMs: 500,
      maxAttempts: 1,
    });
  });

  it('leaves S3 credentials to the default chain when none are given', () => {
    const u = parseBlobUrl('s3://aula-blobs');
    expect(u).toMatchObject({ kind: 's3', credentials: undefined, region: 'us-east-1', create: false, prefix: '' });
  });

  it('keeps "+" in an Azure key and accepts a raw connection string', () => {
    const a = parseBlobUrl(
      `azure://photos?account=devstoreaccount1&key=${KEY}&endpoint=http://127.0.0.1:10000/devstoreaccount1`,
    );
    expect(a).toMatchObject({
      kind: 'azure',
      container: 'photos',
      auth: {
        type: 'sharedKey',
        account: 'devstoreaccount1',
        key: KEY,
        endpoint: 'http://127.0.0.1:10000/devstoreaccount1',
      },
    });
    const cs = `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${KEY};EndpointSuffix=core.windows.net`;
    expect(parseBlobUrl(`azure://photos?connectionString=${cs}`)).toMatchObject({
      auth: { type: 'connectionString', connectionString: cs },
    });
    expect(parseBlobUrl(`azure://photos?connectionString=${encodeURIComponent(cs)}`)).toMatchObject({
      auth: { type: 'connectionString', connectionString: cs },
    });
    expect(parseBlobUrl(`azure://photos?account=acct&sas=${encodeURIComponent('?sv=2024&sig=abc')}`)).toMatchObject({
      auth: { type: 'sas', account: 'acct', sas: 'sv=2024&sig=abc', endpoint: 'https://acct.blob.core.windows.net' },
    });
  });

  it.each([
    ['ftp://x', 'must start with file:, s3:// or azure://'],
    ['file:', 'file: needs a folder'],
    ['s3://', 's3:// needs a bucket name'],
    ['s3://Bad_Bucket', 'bucket name "Bad_Bucket" is not valid'],
    ['s3://aula?forcepathstyle=true', 'unknown s3:// parameter "forcepathstyle"'],
    ['s3://aula?accessKeyId=AKIA1', 'accessKeyId and secretAccessKey must be given together'],
    ['s3://aula?endpoint=localhost:9000', 'parameter "endpoint" must be an http:// or https:// URL'],
    ['s3://aula?endpoint=not a url', 'parameter "endpoint" is not a URL'],
    ['s3://aula?endpoint=ftp://host', 'parameter "endpoint" must be an http:// or https:// URL'],
    ['s3://aula?create=yes', 'parameter "create" must be true or false'],
    ['s3://aula?timeoutMs=fast', 'parameter "timeoutMs" must be a whole number'],
    ['s3://aula?region=a&region=b', 'parameter "region" is given twice'],
    ['s3://aula/../other', 'key prefix'],
    ['s3://aula?region=%E0%A4%A', 'not correctly percent-encoded'],
    ['azure://', 'azure:// needs a container name'],
    ['azure://Photos?account=acct&key=abc', 'container name "Photos" is not valid'],
    ['azure://photos', 'azure:// needs connectionString, or account with key or sas'],
    ['azure://photos?account=acct', 'azure:// with account needs key or sas'],
    ['azure://photos?account=acct&key=not*base64', 'key is not a base64 account key'],
    ['azure://photos?connectionString=hello', 'not an Azure Storage connection string'],
    ['azure://photos?account=acct&sas=sv=2024&sig=abc', 'percent-encode values that contain &'],
    ['azure://photos?connectionString=AccountName=a;AccountKey=b&account=a', 'not both'],
  ])('%s is refused with a message naming the problem', (url, message) => {
    expect(() => parseBlobUrl(url)).toThrow(BlobUrlError);
    expect(() => parseBlobUrl(url)).toThrow(message);
  });

  it('never repeats a secret in an error', () => {
    try {
      parseBlobUrl('s3://aula?secretAccessKey=TOPSECRETVALUE&typo=1');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('unknown s3:// parameter "typo"');
      expect((err as Error).message).not.toContain('TOPSECRETVALUE');
    }
  });

  it('is reported by the configuration under BLOB_URL at start-up', () => {
    try {
      testConfig({ BLOB_URL: 's3://aula?regoin=eu-west-1' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        { variable: 'BLOB_URL', reason: expect.stringContaining('unknown s3:// parameter "regoin"') },
      ]);
    }
    expect(testConfig({ BLOB_URL: 's3://aula?region=eu-west-1' }).blobUrl).toBe('s3://aula?region=eu-west-1');
  });
});
