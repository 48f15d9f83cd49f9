import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Tx } from '../../platform/db/database.ts';
import { idFromKey } from '../../platform/ids.ts';
import type { Box, FaceMatch } from '../../vision/engine.ts';
import type { AnalysisService, ModelSpec } from '../analysis/analysis.service.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';
import type { CaptureRow } from './attendance.repository.ts';

/** The model whose pass attendance runs on each frame: face detection, then matching against a gallery. */
export const IDENTIFY_MODEL = 'face-identification';

/** One face detection and identification pass over a frame, as the ledger records it. */
export interface FramePrediction {
  /** 'all': every face was matched against the gallery; 'new-tracks': only faces whose track needed an identity. */
  identified: 'all' | 'new-tracks';
  /** Wall time of the pass, waiting for a vision worker included. */
  durationMs: number;
  output: {
    size: { width: number; height: number };
    gallery: string;
    faces: {
      box: Box;
      score: number;
      quality: number;
      track: string;
      /** The gallery match made in this frame; null for a face that kept its track's identity. */
      match: FaceMatch | null;
      /** Who attendance took the face to be, after its track's votes. */
      studentId: string | null;
    }[];
  };
}

/** Who and what the ledger rows of one capture name, fixed when its analysis starts. */
export interface CaptureLedgerRun {
  capture: CaptureRow;
  model: ModelSpec;
  /** face-identification's own parameters, as the frames are analysed with them. */
  parameters: Record<string, unknown>;
  /** Where the frames come from: the capture and, for a video, its blob and sampling. */
  origin: Record<string, unknown>;
  userId: string;
}

/**
 * Attendance in the prediction ledger: each capture is one job (under the capture's id), each
 * analysed frame one prediction of face-identification, written through the same ledger as the
 * lab's, in the transaction that writes the frame.
 */
export class CaptureLedger {
  constructor(private readonly d: { analysis: AnalysisService; blobs: BlobStore; config: Config }) {}

  /**
   * The capture's job, owned by whoever sent the capture (the teacher, the token's owner, or the
   * system). A retried run finds it there.
   */
  async open(c: CaptureRow, gallery: string, videoFrameSide: number): Promise<CaptureLedgerRun> {
    const { analysis, config } = this.d;
    const model = await analysis.modelSpec(IDENTIFY_MODEL);
    const parameters = analysis.parseParameters(model.name, {
      gallery,
      threshold: config.faces.matchThreshold,
      margin: config.faces.matchMargin,
      minConfidence: config.vision.detectMinConfidence,
      tiling: 'auto',
    });
    const origin: Record<string, unknown> = { id: c.id, kind: c.kind, source: c.source };
    if (c.kind === 'video') {
      const a = config.attendance;
      const head = c.blob_id ? await this.d.blobs.head(c.blob_id) : null;
      origin.video = { blobId: c.blob_id, sha256: head?.sha256 || null };
      origin.sampling = {
        minIntervalMs: a.sampleMinIntervalMs,
        maxIntervalMs: a.sampleMaxIntervalMs,
        sceneThreshold: a.sceneThreshold,
        stillDiff: a.stillDiff,
        maxSide: videoFrameSide,
      };
    }
    const userId = c.created_by ?? SYSTEM_ACTOR.id;
    await analysis.externalJobs.open({
      id: c.id,
      userId,
      source: 'attendance',
      model,
      parameters: { ...parameters, capture: origin },
    });
    return { capture: c, model, parameters, origin, userId };
  }

  /**
   * One frame's prediction, inside the transaction that writes the frame. Its id comes from
   * (capture, frame): like the frame, it can only be written once.
   */
  async record(
    run: CaptureLedgerRun,
    frame: { index: number; offsetMs: number },
    p: FramePrediction,
    input: { blobId: string; sha256: string },
    trx: Tx,
  ): Promise<void> {
    const c = run.capture;
    await this.d.analysis.ledger.withExecutor(trx).record(
      {
        jobId: c.id,
        userId: run.userId,
        source: 'attendance',
        model: run.model.name,
        modelVersion: run.model.version,
        weightsSha256: run.model.weightsSha256,
        parameters: {
          ...run.parameters,
          capture: { ...run.origin, frame: frame.index, offsetMs: frame.offsetMs, identified: p.identified },
        },
        inputBlobId: input.blobId,
        inputSha256: input.sha256,
        output: p.output,
        durationMs: p.durationMs,
      },
      { id: idFromKey(`${c.id}:${frame.index}`, Number(c.created_at)) },
    );
  }

  close(c: CaptureRow, outcome: { status: 'done' | 'failed'; error?: string }): Promise<void> {
    return this.d.analysis.externalJobs.close(c.id, outcome);
  }
}
