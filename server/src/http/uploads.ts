import type { FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.ts';

export interface UploadedFile {
  filename: string;
  mimetype: string;
  data: Buffer;
}

/** Reads the one file of a multipart request (field name free) into memory, within the upload limit. */
/** A client that cuts a multipart body short is the client's fault: 400, not 500. */
function multipartError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('FST_')) return err;
  return new AppError('invalid_multipart', 400, 'The multipart body is malformed or incomplete');
}

/** The one file of a multipart request as bytes (CSV imports), any field name, within `maxBytes`. */
export async function readOneFileBuffer(req: FastifyRequest, maxBytes: number): Promise<Buffer> {
  try {
    const file = await req.file({ limits: { fileSize: maxBytes, files: 1 } });
    if (!file) throw new AppError('file_required', 400, 'No file in the request');
    return await file.toBuffer();
  } catch (err) {
    throw multipartError(err);
  }
}

export async function readSingleFile(
  req: FastifyRequest,
): Promise<{ file: UploadedFile; fields: Record<string, string> }> {
  if (!req.isMultipart()) throw new AppError('multipart_required', 415, 'Send the file as multipart/form-data');
  let file: UploadedFile | undefined;
  const fields: Record<string, string> = {};
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const data = await part.toBuffer();
        if (file) throw new AppError('too_many_files', 400, 'Send exactly one file');
        // An empty filename="" arrives as undefined, whatever the typings say.
        file = { filename: part.filename ?? '', mimetype: part.mimetype, data };
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (err) {
    throw multipartError(err);
  }
  if (!file) throw new AppError('file_required', 400, 'No file in the request');
  return { file, fields };
}

/** Reads every file of a multipart request into memory (for batches of photos). */
export async function readFiles(
  req: FastifyRequest,
  maxFiles = 100,
): Promise<{ files: UploadedFile[]; fields: Record<string, string> }> {
  if (!req.isMultipart()) throw new AppError('multipart_required', 415, 'Send the files as multipart/form-data');
  const files: UploadedFile[] = [];
  const fields: Record<string, string> = {};
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (files.length >= maxFiles)
          throw new AppError('too_many_files', 413, `At most ${maxFiles} files per request`);
        files.push({ filename: part.filename ?? '', mimetype: part.mimetype, data: await part.toBuffer() });
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (err) {
    throw multipartError(err);
  }
  if (files.length === 0) throw new AppError('file_required', 400, 'No file in the request');
  return { files, fields };
}
