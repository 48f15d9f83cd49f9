import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config.ts';

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
  gallery?: string;
  server?: string;
  token?: string;
}

/**
 * `aula analyze`: any registered model on image files, one JSON line per file. Locally the models
 * run in this process's own workers; with `--server` the server runs them and records every
 * prediction in its ledger. The heavy modules load only when the command runs.
 */
export function registerAnalyzeCommand(program: Command, config: () => Config): void {
  program
    .command('analyze')
    .description('run a vision model on image files and print one JSON result per file')
    .option('--model <name>', 'model name (see --list)')
    .option('--param <k=v>', 'model parameter, repeatable', collectParam, {})
    .option('--list', 'list the models with their parameters and exit')
    .option('--gallery <dir>', 'local face identification: enroll DIR/<identity>/*.jpg as the gallery searched')
    .option('--server <url>', 'run on this Aula server instead, writing every prediction to its ledger')
    .option('--token <token>', 'API token with the analysis:run scope (with --server)')
    .argument('[files...]', 'image files (with --server, also one zip of images)')
    .action(async (files: string[], o: AnalyzeOptions) => {
      if (o.server) {
        if (!o.token) throw new InvalidArgumentError('--token is required with --server');
        if (!o.model) throw new InvalidArgumentError('--model is required');
        if (o.gallery) {
          throw new InvalidArgumentError(
            '--gallery is for local runs; on a server, name a gallery with --param gallery=login or gallery=offering:<id>',
          );
        }
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
      if (!o.list) {
        if (!o.model) throw new InvalidArgumentError('--model is required (use --list to see the models)');
        if (files.length === 0) throw new InvalidArgumentError('give at least one image file');
      }
      const { analyzeLocally, createLocalModels } = await import('../modules/analysis/local-analyze.ts');
      const models = createLocalModels(config());
      try {
        if (o.list) {
          for (const m of await models.vision.registry.list()) console.log(JSON.stringify(m));
          return;
        }
        await analyzeLocally(models, {
          model: o.model!,
          params: o.param,
          files,
          ...(o.gallery !== undefined && { galleryDir: o.gallery }),
          write: (r) => console.log(JSON.stringify(r)),
          warn: (line) => console.error(`warning: ${line}`),
        });
      } finally {
        await models.close();
      }
    });
}
