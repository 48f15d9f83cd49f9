import { AppError } from '../errors.ts';

/**
 * A failure of the storage service itself (unreachable, timed out, refused our credentials) is
 * not the client's fault: it becomes a 503 the caller can retry, with the SDK error kept as the
 * cause for the logs. Errors that are already product errors pass through unchanged.
 */
export function storeFailure(kind: string, op: string, err: unknown): Error {
  if (err instanceof AppError) return err;
  const name = err instanceof Error ? ((err as Error & { code?: string }).code ?? err.name) : 'error';
  const wrapped = new AppError('blob_store_unavailable', 503, `The ${kind} blob store failed during ${op} (${name})`);
  wrapped.cause = err;
  return wrapped;
}

/** Rejects after `ms` unless the promise settles first, for probes that must not hang. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
