import { describe, expect, it } from 'vitest';
import { runLoadCli } from './testing.ts';

describe('aula load: flags and unreachable targets', () => {
  it('rejects bad flags with the reason, the usage and exit code 2', async () => {
    const r = await runLoadCli(['--users', '5', '--rate', '100/s', '--token', 't']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('use either --users (closed model) or --rate (open model), not both');
    expect(r.stderr).toContain('Usage: aula load [options]');
    const unknown = await runLoadCli(['--turbo']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--turbo'");
  });

  it('fails at once, naming the address, when the target cannot be reached', async () => {
    // A 10-minute run that returns within the test timeout can only have stopped at the probe.
    const r = await runLoadCli(['--target', 'http://127.0.0.1:9', '--token', 't', '--duration', '10m']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach http://127.0.0.1:9/health/live');
    expect(r.stderr).toContain('ECONNREFUSED');
    const grpc = await runLoadCli(['--mode', 'grpc', '--grpc', '127.0.0.1:9', '--token', 't', '--duration', '10m']);
    expect(grpc.code).toBe(1);
    expect(grpc.stderr).toContain('cannot reach the gRPC server at 127.0.0.1:9');
  });
});
