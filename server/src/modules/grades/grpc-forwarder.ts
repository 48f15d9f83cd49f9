import * as grpc from '@grpc/grpc-js';
import { AppError } from '../../platform/errors.ts';
import { appErrorFromGrpc, gradesClientConstructor, toGradeMessage, type GradesClient } from './grades.proto.ts';
import type { Ack, NormalizedGrade } from './grades.schemas.ts';

const DEADLINE_MS = 30_000;

/**
 * GRADES_FORWARD_GRPC: the REST front validates, then hands each request to the ingest service
 * over gRPC (SubmitBatch) with the caller's own token, and answers only with its acknowledgement.
 */
export class GradesGrpcForwarder {
  private readonly client: GradesClient;

  constructor(readonly address: string) {
    const Ctor = gradesClientConstructor();
    this.client = new Ctor(address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
    }) as unknown as GradesClient;
  }

  submitBatch(bearerToken: string, grades: readonly NormalizedGrade[]): Promise<Ack> {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${bearerToken}`);
    md.set('aula-source', 'rest');
    return new Promise<Ack>((resolve, reject) => {
      this.client.SubmitBatch(
        { grades: grades.map(toGradeMessage) },
        md,
        { deadline: Date.now() + DEADLINE_MS },
        (err, res) => {
          if (err) reject(appErrorFromGrpc(err));
          else if (!res)
            reject(new AppError('ingest_upstream_failed', 502, 'The ingest service sent no acknowledgement'));
          else resolve({ accepted: Number(res.accepted), duplicates: Number(res.duplicates) });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
