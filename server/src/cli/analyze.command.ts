import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config.ts';
import { AppError } from '../platform/errors.ts';
import { createVision } from '../vision/index.ts';

/** One prediction, shaped like a row of the prediction ledger. */
export interface PredictionRecord {
  model: string;
  version: string;
  weightsSha256: string | null;
  params: Record<string, unknown>;
  file: string;
  inputSha256: string;
  ms: number;
  output: unknown;
}

/**
 * Where predictions go. The CLI prints them as JSON lines; a ledger sink (sending the same
 * records to the server's prediction ledger with an API token) plugs in here as another
 * implementation, selected by its own options, without changing how models run.
 */
export interface PredictionSink {
  write(record: PredictionRecord): Promise<void>;
  close(): Promise<void>;
}

export const stdoutSink: PredictionSink = {
  write: async (r) => void console.log(JSON.stringify(r)),
  close: async () => {},
};

/** `k=v`: the value is read as JSON when it parses (numbers, booleans), else as a string. */
function collectParam(v: string, acc: Record<string, unknown>): Record<string, unknown> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${v}"`);
  const key = v.slice(0, eq);
  const raw = v.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { ...acc, [key]: value };
}

interface AnalyzeOptions {
  model?: string;
  param: Record<string, unknown>;
  list?: boolean;
  server?: string;
  token?: string;
}

export function registerAnalyzeCommand(program: Command, config: () => Config): void {
  program
    .command('analyze')
    .description('run a vision model on image files and print one JSON result per file')
    .option('--model <name>', 'model name (see --list)')
    .option('--param <k=v>', 'model parameter, repeatable', collectParam, {})
    .option('--list', 'list the models with their parameters and exit')
    .option('--server <url>', 'run on this Aula server instead, writing every prediction to its ledger')
    .option('--token <token>', 'API token with the analysis:run scope (with --server)')
    .argument('[files...]', 'image files (with --server, also one zip of images)')
    .action(async (files: string[], o: AnalyzeOptions) => {
      if (o.server) {
        if (!o.token) throw new InvalidArgumentError('--token is required with --server');
        if (!o.model) throw new InvalidArgumentError('--model is required');
        if (files.length === 0) throw new InvalidArgumentError('give at least one image file');
        const { analyzeRemotely } = await import('../modules/analysis/remote-analyze.ts');
        const { failed } = await analyzeRemotely({
          server: o.server,
          token: o.token,
          model: o.model,
          params: o.param,
          files,
          print: (line) => console.log(line),
        });
        if (failed > 0) process.exitCode = 1;
        return;
      }
      const vision = createVision(config());
      const sink = stdoutSink;
      try {
        if (o.list) {
          for (const m of await vision.registry.list()) console.log(JSON.stringify(m));
          return;
        }
        if (!o.model) throw new InvalidArgumentError('--model is required (use --list to see the models)');
        if (files.length === 0) throw new InvalidArgumentError('give at least one image file');
        const def = vision.registry.get(o.model);
        // Bad parameters are refused before any model loads.
        vision.registry.parseParams(def.name, o.param);
        const weightsSha256 = await vision.registry.weightsSha256(def.name);
        for (const file of files) {
          const data = await fs.readFile(file).catch(() => {
            throw new AppError('file_not_found', 404, `No file at ${file}`);
          });
          const t0 = performance.now();
          const output = await vision.registry.run(vision.engine, def.name, data, o.param);
          await sink.write({
            model: def.name,
            version: def.version,
            weightsSha256,
            params: o.param,
            file: path.resolve(file),
            inputSha256: createHash('sha256').update(data).digest('hex'),
            ms: Math.round(performance.now() - t0),
            output,
          });
        }
      } finally {
        await sink.close();
        await vision.close();
      }
    });
}
