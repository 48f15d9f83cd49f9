import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BlobStore, createBlobStore } from '../../platform/blobs/index.ts';
import type { Db } from '../../platform/db/database.ts';
import { newId } from '../../platform/ids.ts';
import { createLogger } from '../../platform/logger.ts';
import { describeEachDialect, openTestDb } from '../../test/databases.ts';
import { AnalysisRepository } from '../analysis/analysis.repository.ts';
import { PredictionLedger } from '../analysis/ledger.ts';
import { BlobSweeper } from './blob-sweeper.ts';
import { BlobsRepository } from './blobs.repository.ts';

/**
 * The ledger outlives its inputs: raw captures are deleted after their retention period and
 * photos by their owners, while the predictions made from them stay. The sweeper must count a
 * ledger row as a reason to keep a blob, and not as a broken reference once the blob is gone.
 */
describeEachDialect('blob sweeper and the prediction ledger', (dialect) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let dir: string;
  let blobs: BlobStore;
  let sweeper: BlobSweeper;
  let analysis: AnalysisRepository;
  let ledger: PredictionLedger;
  const userId = newId();

  beforeAll(async () => {
    ({ db, cleanup } = await openTestDb(dialect));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-sweep-'));
    blobs = await createBlobStore(`file:${dir}`);
    sweeper = new BlobSweeper(new BlobsRepository(db.kysely), blobs, createLogger('silent'));
    analysis = new AnalysisRepository(db.kysely);
    ledger = new PredictionLedger(analysis);
  });
  afterAll(async () => {
    await blobs?.close();
    await cleanup?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const predictionOf = (blob: { id: string; sha256: string }) =>
    ledger.record({
      jobId: null,
      userId,
      source: 'attendance',
      model: 'face-identification',
      modelVersion: '1',
      weightsSha256: null,
      parameters: {},
      inputBlobId: blob.id,
      inputSha256: blob.sha256,
      output: { faces: [] },
      durationMs: 1,
    });

  it('keeps a blob only a ledger row names, and says nothing once it is deleted on purpose', async () => {
    const blob = await blobs.put(Buffer.from('a frame'), { contentType: 'image/jpeg' });
    const row = await predictionOf(blob);
    const kept = await sweeper.sweep({ graceMs: 0 });
    expect(kept.orphanBlobs).toEqual([]);
    expect(kept.missingBlobs).toEqual([]);

    await blobs.delete(blob.id);
    const after = await sweeper.sweep({ graceMs: 0 });
    expect(after.missingBlobs).toEqual([]);
    expect(after.references).toBe(kept.references);
    expect((await analysis.findPrediction(row.id))?.input_blob_id).toBe(blob.id);
  });

  it('still reports a live row whose blob is missing, when a ledger row names the same blob', async () => {
    const blob = await blobs.put(Buffer.from('a lab input'), { contentType: 'image/jpeg' });
    const t = Date.now();
    const jobId = newId(t);
    await analysis.insertJob({
      id: jobId,
      user_id: userId,
      source: 'lab',
      model: 'objects',
      model_version: '1',
      weights_sha256: null,
      parameters: '{}',
      status: 'done',
      total: 1,
      processed: 1,
      failed: 0,
      error: null,
      rerun_of: null,
      created_at: t,
      started_at: t,
      finished_at: t,
    });
    await analysis.insertInputs([
      {
        id: newId(t),
        job_id: jobId,
        position: 0,
        filename: 'a.jpg',
        blob_id: blob.id,
        sha256: blob.sha256,
        size: blob.size,
        status: 'done',
        error_code: null,
        error: null,
        prediction_id: null,
      },
    ]);
    await predictionOf(blob);
    await blobs.delete(blob.id);
    const r = await sweeper.sweep({ graceMs: 0 });
    expect(r.missingBlobs).toEqual([{ table: 'analysis_inputs', column: 'blob_id', blobId: blob.id }]);
  });
});
