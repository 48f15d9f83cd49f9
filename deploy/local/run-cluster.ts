import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startCluster } from './cluster.ts';

/**
 * `npm run cluster:local`: the scaled deployment on this machine, in the foreground. Every
 * instance's output is printed with its name; Ctrl-C stops everything cleanly.
 */

const USAGE = `usage: npm run cluster:local -- [options]

  --port N            the proxy's port (default 8080)
  --database-url URL  the MySQL/MariaDB server (default mysql://root@127.0.0.1:3306)
  --database NAME     the database, created when missing (default aula_cluster)
  --redis-url URL     default redis://127.0.0.1:6379
  --data DIR          where s3rver keeps the blobs (default data/cluster/s3)
  --verbose           the instances log at info instead of warn
`;

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        'database-url': { type: 'string' },
        database: { type: 'string' },
        'redis-url': { type: 'string' },
        data: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(values.port ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a port number\n\n${USAGE}`);
  process.exit(2);
}

const blobDir = path.resolve(values.data ?? path.join(ROOT, 'data/cluster/s3'));
if (!fs.existsSync(path.join(ROOT, 'web/dist/index.html'))) {
  console.log('The web app is not built, so the API serves only /api and /docs: run `npm run build:web` first.');
}

// Ctrl-C while starting: exiting runs the cluster's exit hook, which kills what already started.
const early = () => process.exit(130);
process.once('SIGINT', early);
process.once('SIGTERM', early);

const width = 'ingest-grpc'.length;
console.log('Starting the local cluster (migrations first, then every instance at once)…');
const cluster = await startCluster({
  proxyPort: port,
  databaseUrl: values['database-url'],
  databaseName: values.database,
  redisUrl: values['redis-url'],
  blobDir,
  seedDemo: true,
  logLevel: values.verbose ? 'info' : 'warn',
  onOutput: (name, line) => console.log(`${name.padEnd(width)} | ${line}`),
}).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

const pid = (name: string) => `pid ${cluster.instances().find((i) => i.name === name)?.pid ?? '?'}`;
console.log(`
Aula local cluster is running:
  web and REST   ${cluster.proxyUrl}   (round-robin over the two API instances; OpenAPI at /docs)
  api-a          ${cluster.apiUrls['api-a']}   (${pid('api-a')})
  api-b          ${cluster.apiUrls['api-b']}   (${pid('api-b')})
  gRPC ingest    ${cluster.grpcAddress}   (aula.grades.v1.Grades; ${pid('ingest-grpc')})
  workers        worker-1 (${pid('worker-1')}), worker-2 (${pid('worker-2')}), BullMQ on ${cluster.redisUrl}
  database       ${cluster.databaseUrl}
  blobs          ${cluster.s3Url} (s3rver, folder ${blobDir})
Sign in as "admin" with the password "${cluster.adminPassword}". Press Ctrl-C to stop.
`);

let stoppingSince = 0;
const stop = (signal: string) => {
  if (stoppingSince) {
    // A terminal's Ctrl-C reaches this process both directly and relayed by npm: the same press
    // must not count twice. A second press later does not wait for a clean stop.
    if (Date.now() - stoppingSince < 1500) return;
    console.log('Killing the instances.');
    process.exit(130);
  }
  stoppingSince = Date.now();
  console.log(`\n${signal}: stopping the proxy, then every instance (Ctrl-C again to kill them)…`);
  cluster.stop().then(
    () => {
      console.log('Stopped.');
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.off('SIGINT', early);
process.off('SIGTERM', early);
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
