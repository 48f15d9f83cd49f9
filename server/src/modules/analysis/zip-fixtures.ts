import { writeZip, type ZipWriteEntry } from '../../platform/zip-writer.ts';

/*
 * Zip archives for tests, written byte by byte so that hostile ones (bombs, climbing paths,
 * encrypted entries, lying sizes) can be built without any archiver smoothing them over.
 */

export type FixtureEntry = ZipWriteEntry;

export const buildZip = writeZip;
