/**
 * Parsing of BLOB_URL, kept free of SDK imports so the configuration can validate it at start-up
 * and name the exact problem. Messages never repeat the URL: it may carry a secret key.
 *
 *   file:./data/blobs
 *   s3://bucket[/prefix]?region=…&endpoint=…&forcePathStyle=true&accessKeyId=…&secretAccessKey=…&create=true
 *   azure://container[/prefix]?connectionString=…            (percent-encoded)
 *   azure://container[/prefix]?account=…&key=…[&endpoint=…]  or  ?account=…&sas=…
 *
 * Query values are percent-decoded without turning "+" into a space, because base64 account keys
 * contain "+".
 */

export class BlobUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobUrlError';
  }
}

export interface FileBlobUrl {
  kind: 'file';
  root: string;
}

interface RemoteCommon {
  /** Key prefix inside the bucket or container, '' or ending in '/'. */
  prefix: string;
  /** Create the bucket or container on first use when it is missing. */
  create: boolean;
  /** Per-request timeout (S3: socket inactivity; Azure: each try), so a dead store fails instead of hanging. */
  timeoutMs: number;
  maxAttempts: number;
}

export interface S3BlobUrl extends RemoteCommon {
  kind: 's3';
  bucket: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Absent: the AWS SDK's default credential chain (environment, profile, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  connectTimeoutMs: number;
}

export interface AzureBlobUrl extends RemoteCommon {
  kind: 'azure';
  container: string;
  auth:
    | { type: 'connectionString'; connectionString: string }
    | { type: 'sharedKey'; account: string; key: string; endpoint: string }
    | { type: 'sas'; account: string; sas: string; endpoint: string };
}

export type ParsedBlobUrl = FileBlobUrl | S3BlobUrl | AzureBlobUrl;

const S3_PARAMS = new Set([
  'region',
  'endpoint',
  'forcePathStyle',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'create',
  'timeoutMs',
  'connectTimeoutMs',
  'maxAttempts',
]);
const AZURE_PARAMS = new Set([
  'connectionString',
  'account',
  'key',
  'sas',
  'endpoint',
  'create',
  'timeoutMs',
  'maxAttempts',
]);

// S3 bucket naming rules (virtual-host compatible subset): 3–63 of a-z 0-9 . -, alphanumeric ends.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Azure container rules: 3–63 of a-z 0-9 -, starting with a letter or digit, no double hyphen.
const AZURE_CONTAINER = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9._\-/]*$/;

export function parseBlobUrl(url: string): ParsedBlobUrl {
  if (url.startsWith('file:')) {
    const root = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!root) throw new BlobUrlError('file: needs a folder, e.g. file:./data/blobs');
    return { kind: 'file', root };
  }
  const m = /^(s3|azure):\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!m) {
    if (/^(s3|azure):/.test(url)) throw new BlobUrlError('must look like s3://bucket?… or azure://container?…');
    throw new BlobUrlError('must start with file:, s3:// or azure://');
  }
  const [, scheme, name, path = '', query = ''] = m as unknown as [string, 's3' | 'azure', string, string?, string?];
  const params = parseQuery(query, scheme === 's3' ? S3_PARAMS : AZURE_PARAMS, scheme);
  const prefix = parsePrefix(path);
  const create = bool(params, 'create', false);
  const maxAttempts = int(params, 'maxAttempts', 3, 1, 10);

  if (scheme === 's3') {
    if (!name) throw new BlobUrlError('s3:// needs a bucket name, e.g. s3://aula-blobs?region=eu-west-1');
    if (!S3_BUCKET.test(name)) {
      throw new BlobUrlError(`bucket name "${name}" is not valid: use 3–63 lowercase letters, digits, dots or hyphens`);
    }
    const endpoint = params.get('endpoint');
    if (endpoint !== undefined) httpUrl(endpoint, 'endpoint');
    const accessKeyId = params.get('accessKeyId');
    const secretAccessKey = params.get('secretAccessKey');
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new BlobUrlError(
        'accessKeyId and secretAccessKey must be given together (or neither, for the default AWS credential chain)',
      );
    }
    const sessionToken = params.get('sessionToken');
    if (sessionToken !== undefined && accessKeyId === undefined) {
      throw new BlobUrlError('sessionToken needs accessKeyId and secretAccessKey');
    }
    return {
      kind: 's3',
      bucket: name,
      prefix,
      region: params.get('region') || 'us-east-1',
      endpoint,
      forcePathStyle: bool(params, 'forcePathStyle', false),
      credentials:
        accessKeyId !== undefined && secretAccessKey !== undefined
          ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
          : undefined,
      create,
      timeoutMs: int(params, 'timeoutMs', 30_000, 100, 3_600_000),
      connectTimeoutMs: int(params, 'connectTimeoutMs', 5_000, 100, 600_000),
      maxAttempts,
    };
  }

  if (!name) throw new BlobUrlError('azure:// needs a container name, e.g. azure://aula-blobs?connectionString=…');
  if (!AZURE_CONTAINER.test(name)) {
    throw new BlobUrlError(
      `container name "${name}" is not valid: use 3–63 lowercase letters, digits or single hyphens`,
    );
  }
  const connectionString = params.get('connectionString');
  const account = params.get('account');
  const key = params.get('key');
  const sas = params.get('sas');
  const endpoint = params.get('endpoint');
  let auth: AzureBlobUrl['auth'];
  if (connectionString !== undefined) {
    if (account !== undefined || key !== undefined || sas !== undefined || endpoint !== undefined) {
      throw new BlobUrlError('give either connectionString or account with key/sas, not both');
    }
    if (!/(AccountName=|BlobEndpoint=|UseDevelopmentStorage=true)/i.test(connectionString)) {
      throw new BlobUrlError(
        'connectionString is not an Azure Storage connection string (no AccountName or BlobEndpoint)',
      );
    }
    auth = { type: 'connectionString', connectionString };
  } else {
    if (!account) throw new BlobUrlError('azure:// needs connectionString, or account with key or sas');
    if (!/^[a-z0-9]{3,24}$/.test(account)) throw new BlobUrlError(`account name "${account}" is not valid`);
    const base = endpoint
      ? httpUrl(endpoint, 'endpoint').replace(/\/+$/, '')
      : `https://${account}.blob.core.windows.net`;
    if (key !== undefined && sas !== undefined) throw new BlobUrlError('give key or sas, not both');
    if (key !== undefined) {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key))
        throw new BlobUrlError('key is not a base64 account key (percent-encode it in the URL)');
      auth = { type: 'sharedKey', account, key, endpoint: base };
    } else if (sas !== undefined) {
      auth = { type: 'sas', account, sas: sas.replace(/^\?/, ''), endpoint: base };
    } else {
      throw new BlobUrlError('azure:// with account needs key or sas');
    }
  }
  return {
    kind: 'azure',
    container: name,
    prefix,
    auth,
    create,
    timeoutMs: int(params, 'timeoutMs', 30_000, 100, 3_600_000),
    maxAttempts,
  };
}

function parseQuery(query: string, allowed: Set<string>, scheme: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey);
      value = decodeURIComponent(rawValue);
    } catch {
      throw new BlobUrlError(`parameter "${rawKey}" is not correctly percent-encoded`);
    }
    if (!allowed.has(key)) {
      throw new BlobUrlError(
        `unknown ${scheme}:// parameter "${key}" (known: ${[...allowed].join(', ')}; percent-encode values that contain &)`,
      );
    }
    if (params.has(key)) throw new BlobUrlError(`parameter "${key}" is given twice`);
    params.set(key, value);
  }
  return params;
}

function parsePrefix(path: string): string {
  const p = path.replace(/^\/+/, '');
  if (!p) return '';
  if (!PREFIX.test(p) || p.split('/').some((seg) => seg === '.' || seg === '..')) {
    throw new BlobUrlError('the key prefix after the bucket or container may only use letters, digits, . _ - and /');
  }
  return p.endsWith('/') ? p : `${p}/`;
}

function bool(params: Map<string, string>, key: string, dflt: boolean): boolean {
  const v = params.get(key);
  if (v === undefined) return dflt;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BlobUrlError(`parameter "${key}" must be true or false`);
}

function int(params: Map<string, string>, key: string, dflt: number, min: number, max: number): number {
  const v = params.get(key);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) {
    throw new BlobUrlError(`parameter "${key}" must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function httpUrl(v: string, key: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new BlobUrlError(`parameter "${key}" is not a URL (percent-encode it in the query)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new BlobUrlError(`parameter "${key}" must be an http:// or https:// URL`);
  }
  return v;
}
