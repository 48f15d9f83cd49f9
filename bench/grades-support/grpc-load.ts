import * as grpc from '@grpc/grpc-js';
import { type GradeGenerator } from '../../server/src/loadgen/data.ts';
import { GRADES_SERVICE, gradesPackageDefinition } from '../../server/src/modules/grades/grades.proto.ts';

export interface StreamResult {
  grades: number;
  seconds: number;
  rate: number;
  clientCpu: number;
}

const serialize = () => {
  const svc = gradesPackageDefinition()[GRADES_SERVICE] as grpc.ServiceDefinition;
  return svc.SubmitStream.requestSerialize as (m: unknown) => Buffer;
};

/**
 * `streams` concurrent SubmitStream calls, each sending `perStream` grades as fast as flow
 * control allows and waiting for its Ack. Messages are encoded up front so that the client's
 * protobuf encoding is not part of the measurement.
 */
export async function grpcStreams(opts: {
  address: string;
  token: string;
  streams: number;
  perStream: number;
  generator: GradeGenerator;
}): Promise<StreamResult> {
  const encode = serialize();
  const payloads: Buffer[][] = Array.from({ length: opts.streams }, () =>
    opts.generator.batch(opts.perStream).map((g) => encode({ ...g, idempotency_key: '' })),
  );
  const client = new grpc.Client(opts.address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 8 * 1024 * 1024,
  });
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())),
  );
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${opts.token}`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const acks = await Promise.all(
    payloads.map(
      (msgs) =>
        new Promise<number>((resolve, reject) => {
          const call = client.makeClientStreamRequest(
            `/${GRADES_SERVICE}/SubmitStream`,
            (b: Buffer) => b,
            (b: Buffer) => b,
            md,
            {},
            (err, res) => (err ? reject(err) : resolve(decodeAccepted(res!))),
          );
          let i = 0;
          const write = () => {
            while (i < msgs.length) {
              if (!call.write(msgs[i++])) {
                call.once('drain', write);
                return;
              }
            }
            call.end();
          };
          write();
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  client.close();
  const grades = acks.reduce((s, n) => s + n, 0);
  return { grades, seconds, rate: grades / seconds, clientCpu: (cpu.user + cpu.system) / 1e6 };
}

/** `accepted` (field 1, varint) of an Ack. */
function decodeAccepted(b: Buffer): number {
  let pos = 0;
  while (pos < b.length) {
    const tag = b[pos++];
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = b[pos++];
      v += (byte & 0x7f) * mul;
      mul *= 128;
      if ((byte & 0x80) === 0) break;
    }
    if (tag === 0x08) return v;
  }
  return 0;
}
