/**
 * The stand-in server of `aula load --self-test`: the smallest thing that speaks the grade API
 * (REST and gRPC) and acknowledges everything at once, run in its own process so that measuring
 * it shows the generator's own ceiling. Prints {"http":port,"grpc":port} when listening.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_FILE } from './grpc-engine.ts';

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && (url === '/health/live' || url === '/api/v1/auth/me')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  if (req.method === 'POST' && url === '/api/v1/grades') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let n: number;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        n = Array.isArray(body) ? body.length : 1;
      } catch {
        res.writeHead(400, { 'content-type': 'application/problem+json' });
        res.end('{"code":"invalid_json","status":400}');
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(`{"accepted":${n},"duplicates":0}`);
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'application/problem+json' });
  res.end('{"code":"route_not_found","status":404}');
});
server.keepAliveTimeout = 60_000;

const def = await protoLoader.load(PROTO_FILE, { keepCase: true, longs: Number, defaults: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as {
  aula: { grades: { v1: { Grades: { service: grpc.ServiceDefinition } } } };
};
const grpcServer = new grpc.Server();
type Ack = { accepted: number; duplicates: number };
grpcServer.addService(pkg.aula.grades.v1.Grades.service, {
  Submit: (_call: grpc.ServerUnaryCall<unknown, Ack>, cb: grpc.sendUnaryData<Ack>) =>
    cb(null, { accepted: 1, duplicates: 0 }),
  SubmitBatch: (call: grpc.ServerUnaryCall<{ grades: unknown[] }, Ack>, cb: grpc.sendUnaryData<Ack>) =>
    cb(null, { accepted: call.request.grades.length, duplicates: 0 }),
  SubmitStream: (call: grpc.ServerReadableStream<unknown, Ack>, cb: grpc.sendUnaryData<Ack>) => {
    let n = 0;
    call.on('data', () => n++);
    call.on('end', () => cb(null, { accepted: n, duplicates: 0 }));
  },
});

const grpcPort = await new Promise<number>((resolve, reject) =>
  grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
    err ? reject(err) : resolve(port),
  ),
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const addr = server.address();
process.stdout.write(`${JSON.stringify({ http: typeof addr === 'object' && addr ? addr.port : 0, grpc: grpcPort })}\n`);

// Stops with its parent: when stdin closes, or on a signal.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
