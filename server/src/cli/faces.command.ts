import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config.ts';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';
import { AppError } from '../platform/errors.ts';

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif|heic|heif)$/i;

const number = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
  return n;
};

async function requireDir(dir: string): Promise<string> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new AppError('not_a_directory', 404, `No folder at ${dir}`);
  return path.resolve(dir);
}

/**
 * `aula faces enroll DIR` enrolls a folder per person (named by student code or username);
 * `aula faces eval` measures identification on a labelled folder without touching stored data.
 */
export function registerFacesCommand(program: Command, config: () => Config): void {
  const faces = program.command('faces').description('face enrollment and evaluation');

  faces
    .command('enroll')
    .description('enroll photos from DIR/<student code or username>/*.jpg; prints a result per folder')
    .argument('<dir>', 'folder with one subfolder per person')
    .action(async (dirArg: string) => {
      const dir = await requireDir(dirArg);
      const folders = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory());
      if (folders.length === 0) throw new AppError('empty_folder', 400, `${dir} has no subfolders`);
      // The service graph and vision load only when a command runs, so `aula --help` starts fast.
      const { createContext } = await import('../context.ts');
      const ctx = await createContext(config());
      let failedFolders = 0;
      try {
        for (const folder of folders.sort((a, b) => a.name.localeCompare(b.name))) {
          const user = await ctx.faces.findUserIdByCodeOrUsername(folder.name);
          if (!user) {
            console.log(`${folder.name}: no user has this student code or username`);
            failedFolders++;
            continue;
          }
          const files = (await fs.readdir(path.join(dir, folder.name))).filter((f) => IMAGE_EXT.test(f)).sort();
          let enrolled = 0;
          const rejected: string[] = [];
          for (const f of files) {
            try {
              const data = await fs.readFile(path.join(dir, folder.name, f));
              await ctx.faces.enroll(SYSTEM_ACTOR, user.id, data, 'import');
              enrolled++;
            } catch (err) {
              if (!(err instanceof AppError) || err.status >= 500) throw err;
              rejected.push(`${f} (${err.code}: ${err.message})`);
            }
          }
          if (enrolled === 0) failedFolders++;
          const tail = rejected.length ? `; rejected ${rejected.length}: ${rejected.join('; ')}` : '';
          console.log(`${folder.name}: ${user.username}: enrolled ${enrolled} of ${files.length} photo(s)${tail}`);
        }
      } finally {
        await ctx.close();
      }
      if (failedFolders > 0) process.exitCode = 1;
    });

  faces
    .command('eval')
    .description('identification accuracy on a labelled set (gallery/<identity>/*, probes/*, labels.json)')
    .requiredOption('--gallery <dir>', 'one folder of enrollment photos per identity')
    .requiredOption('--probes <dir>', 'photos to identify')
    .requiredOption('--labels <file>', 'labels.json: { "probes": { "<file>": ["<identity>" | "unknown", …] } }')
    .option(
      '--threshold <x>',
      'largest L2 distance accepted (default: FACE_MATCH_THRESHOLD)',
      number('threshold', 0.01, 2),
    )
    .option(
      '--margin <x>',
      'required lead over the second identity (default: FACE_MATCH_MARGIN)',
      number('margin', 0, 1),
    )
    .option(
      '--json',
      'print one JSON object: top1, knownFaces, unknownRejected, unknownFaces, falseAccepts, msPerImage',
    )
    .action(
      async (o: {
        gallery: string;
        probes: string;
        labels: string;
        threshold?: number;
        margin?: number;
        json?: boolean;
      }) => {
        const cfg = config();
        const galleryDir = await requireDir(o.gallery);
        const probesDir = await requireDir(o.probes);
        const [{ createVision }, { evaluateFaces }] = await Promise.all([
          import('../vision/index.ts'),
          import('../vision/evaluate.ts'),
        ]);
        const vision = createVision(cfg);
        try {
          const r = await evaluateFaces(vision.engine, {
            galleryDir,
            probesDir,
            labelsFile: path.resolve(o.labels),
            threshold: o.threshold ?? cfg.faces.matchThreshold,
            margin: o.margin ?? cfg.faces.matchMargin,
            ...(!o.json && { onProgress: (line: string) => console.log(line) }),
          });
          if (o.json) {
            const { top1, knownFaces, unknownRejected, unknownFaces, falseAccepts, msPerImage } = r;
            console.log(JSON.stringify({ top1, knownFaces, unknownRejected, unknownFaces, falseAccepts, msPerImage }));
          } else {
            for (const p of r.galleryProblems) console.log(`warning: ${p}`);
            const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
            console.log('');
            console.log(`gallery            ${r.galleryIdentities} identities, ${r.galleryTemplates} templates`);
            console.log(`threshold, margin  ${r.threshold}, ${r.margin}`);
            console.log(`top-1 (known)      ${pct(r.top1)} of ${r.knownFaces} known faces`);
            const faces = r.probes.reduce((n, p) => n + p.predicted.length, 0);
            const rate = (a: number, b: number) => (b ? pct(a / b) : 'n/a');
            console.log(
              `unknown rejected   ${rate(r.unknownRejected, r.unknownFaces)} (${r.unknownRejected} of ${r.unknownFaces})`,
            );
            console.log(
              `false accepts      ${rate(r.falseAccepts, faces)} (${r.falseAccepts} of ${faces} faces found)`,
            );
            console.log(`time               ${r.msPerImage} ms per probe image`);
          }
        } finally {
          await vision.close();
        }
      },
    );
}
