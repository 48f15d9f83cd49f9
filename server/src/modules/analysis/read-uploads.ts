import type { FastifyRequest } from 'fastify';
import { readFiles, readSingleFile, type UploadedFile } from '../../http/uploads.ts';
import { AppError } from '../../platform/errors.ts';

/**
 * The request's files, with a malformed multipart body (a cut-off upload, a wrong boundary)
 * answered as a 400 rather than surfacing as a parser crash.
 */
function malformed(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('FST_')) return err;
  return new AppError(
    'invalid_multipart',
    400,
    `The upload is not valid multipart/form-data: ${(err as Error).message}`,
  );
}

export async function readUploads(
  req: FastifyRequest,
  maxFiles: number,
): Promise<{ files: UploadedFile[]; fields: Record<string, string> }> {
  try {
    return await readFiles(req, maxFiles);
  } catch (err) {
    throw malformed(err);
  }
}

export async function readUpload(req: FastifyRequest): Promise<{ file: UploadedFile; fields: Record<string, string> }> {
  try {
    return await readSingleFile(req);
  } catch (err) {
    throw malformed(err);
  }
}
