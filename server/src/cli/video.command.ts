import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { type Config, parseDuration } from '../config.ts';
import { AppError } from '../platform/errors.ts';
import type { Gallery } from '../vision/gallery.ts';

const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;

const duration = (v: string) => {
  try {
    return parseDuration(v);
  } catch {
    throw new InvalidArgumentError('must be a duration such as 10s or 500ms');
  }
};

interface TrackSummary {
  track: string;
  name: string | null;
  firstSeenS: number;
  lastSeenS: number;
  frames: number;
}

/**
 * `aula video analyze FILE`: samples a video the way attendance does and reports the frames
 * taken, the faces in each, and the people tracked through it (named when `--gallery DIR` holds
 * one folder of photos per person). Touches no stored data: for trying sampling settings and
 * camera placement before a class.
 */
export function registerVideoCommand(program: Command, config: () => Config): void {
  const video = program.command('video').description('video tools');
  video
    .command('analyze')
    .description('sample a video adaptively and report frames, faces and tracked people')
    .argument('<file>', 'an MP4, MOV or WebM file')
    .option('--max-interval <duration>', 'a frame at least this often')
    .option('--min-interval <duration>', 'on a scene change, a frame no sooner than this')
    .option('--scene <score>', 'ffmpeg scene score that counts as a change (0..1)', Number)
    .option('--gallery <dir>', 'folder with one subfolder of photos per person, to name tracks')
    .option('--json', 'print JSON')
    .action(
      async (
        file: string,
        o: { maxInterval?: string; minInterval?: string; scene?: number; gallery?: string; json?: boolean },
      ) => {
        const c = config();
        const st = await fs.stat(file).catch(() => undefined);
        if (!st?.isFile()) throw new AppError('not_found', 404, `No file at ${file}`);
        // Vision loads only when the command runs, so `aula --help` starts fast.
        const [{ Tracker }, { Gallery }, { createVision }, { FACE_EMBEDDING_MODEL }, { probeVideo, sampleFrames }] =
          await Promise.all([
            import('../modules/attendance/tracker.ts'),
            import('../vision/gallery.ts'),
            import('../vision/index.ts'),
            import('../vision/pool-engine.ts'),
            import('../vision/video.ts'),
          ]);
        const info = await probeVideo(file);
        const vision = createVision(c);
        try {
          let gallery: Gallery | undefined;
          if (o.gallery) {
            gallery = new Gallery('cli', FACE_EMBEDDING_MODEL);
            for (const d of await fs.readdir(o.gallery, { withFileTypes: true })) {
              if (!d.isDirectory()) continue;
              for (const f of (await fs.readdir(path.join(o.gallery, d.name))).filter((n) => IMAGE_EXT.test(n))) {
                const { faces } = await vision.engine.embedFaces(await fs.readFile(path.join(o.gallery, d.name, f)), {
                  maxFaces: 1,
                  tiling: 'off',
                });
                if (faces[0]) gallery.add(`${d.name}/${f}`, d.name, faces[0].descriptor);
              }
            }
          }
          const tracker = new Tracker();
          const seen = new Map<string, TrackSummary>();
          const frames: { index: number; atS: number; faces: number }[] = [];
          const t0 = Date.now();
          for await (const frame of sampleFrames(file, {
            maxIntervalMs: o.maxInterval ? duration(o.maxInterval) : c.attendance.sampleMaxIntervalMs,
            minIntervalMs: o.minInterval ? duration(o.minInterval) : c.attendance.sampleMinIntervalMs,
            sceneThreshold: o.scene ?? c.attendance.sceneThreshold,
          })) {
            const { faces } = await vision.engine.embedFaces(frame.jpeg);
            const assoc = tracker.associate(
              frame.index,
              faces.map((f) => f.box),
            );
            const matches = gallery?.size
              ? gallery.matchMany(
                  faces.map((f) => f.descriptor),
                  { threshold: c.faces.matchThreshold, margin: c.faces.matchMargin },
                )
              : [];
            faces.forEach((_f, i) => {
              const m = matches[i];
              tracker.vote(assoc[i].trackNo, frame.index, {
                studentId: m?.known ? m.identity : null,
                confidence: m?.confidence ?? 0,
                distance: m ? m.distance : null,
              });
              const s = seen.get(assoc[i].trackNo) ?? {
                track: `#${seen.size + 1}`,
                name: null,
                firstSeenS: frame.offsetMs / 1000,
                lastSeenS: frame.offsetMs / 1000,
                frames: 0,
              };
              s.lastSeenS = frame.offsetMs / 1000;
              s.frames++;
              s.name = tracker.identity(assoc[i].trackNo)?.studentId ?? null;
              seen.set(assoc[i].trackNo, s);
            });
            frames.push({ index: frame.index, atS: frame.offsetMs / 1000, faces: faces.length });
            if (!o.json)
              console.log(`frame ${frame.index} at ${(frame.offsetMs / 1000).toFixed(1)} s: ${faces.length} face(s)`);
          }
          const elapsedS = (Date.now() - t0) / 1000;
          const result = {
            file: path.resolve(file),
            durationS: info.durationMs / 1000,
            size: `${info.width}x${info.height}`,
            codec: info.codec,
            frames: frames.length,
            elapsedS: Math.round(elapsedS * 10) / 10,
            speed: elapsedS > 0 ? Math.round((info.durationMs / 1000 / elapsedS) * 10) / 10 : null,
            tracks: [...seen.values()],
          };
          if (o.json) console.log(JSON.stringify({ ...result, sampled: frames }, null, 2));
          else {
            console.log(
              `${result.frames} frames of ${result.durationS.toFixed(1)} s analysed in ${result.elapsedS} s (${result.speed}x real time)`,
            );
            for (const t of result.tracks) {
              console.log(
                `  ${t.track} ${t.name ?? 'unknown'}: ${t.firstSeenS.toFixed(1)}–${t.lastSeenS.toFixed(1)} s in ${t.frames} frame(s)`,
              );
            }
          }
        } finally {
          await vision.close();
        }
      },
    );
}
