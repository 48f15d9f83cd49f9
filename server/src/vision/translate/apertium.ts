import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../platform/errors.ts';
import { iso1, iso3, type LanguagePair, type TranslationProvider } from './provider.ts';

export interface ApertiumOptions {
  bin: string;
  timeoutMs: number;
}

/** Runs `bin args` with `input` on stdin; output is capped so a runaway process cannot fill memory. */
function run(bin: string, args: string[], input: string, timeoutMs: number, maxOutputBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() =>
        reject(new AppError('translation_timeout', 504, `The translator did not answer within ${timeoutMs} ms`)),
      );
    }, timeoutMs);
    child.on('error', (e) =>
      finish(() => reject(new AppError('translation_unavailable', 503, `apertium could not be started: ${e.message}`))),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutputBytes) {
        child.kill('SIGKILL');
        finish(() => reject(new AppError('translation_failed', 502, 'The translator produced too much output')));
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 2000) err += chunk.toString('utf8');
    });
    child.on('close', (code) =>
      finish(() => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else
          reject(
            new AppError('translation_failed', 502, `apertium failed: ${err.trim().split('\n')[0] || `exit ${code}`}`),
          );
      }),
    );
    // A closed stdin (the process died early) must not crash the server.
    child.stdin.on('error', () => {});
    child.stdin.end(input, 'utf8');
  });
}

/**
 * Apertium, the rule-based translator from the Debian packages `apertium` and `apertium-eng-spa`:
 * offline and deterministic, with literal quality. Each call runs one `apertium <pair>` process.
 */
export class ApertiumProvider implements TranslationProvider {
  readonly name = 'apertium' as const;
  private cachedPairs: Promise<LanguagePair[]> | undefined;

  constructor(private readonly opts: ApertiumOptions) {}

  pairs(): Promise<LanguagePair[]> {
    this.cachedPairs ??= run(this.opts.bin, ['-l'], '', this.opts.timeoutMs, 64 * 1024).then(
      (out) =>
        out
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => /^[a-z]{2,3}(_[A-Za-z]+)?-[a-z]{2,3}(_[A-Za-z]+)?$/.test(l))
          .map((l) => {
            const [from, to] = l.split('-');
            return { from: iso1(from), to: iso1(to) };
          }),
      (err: unknown) => {
        this.cachedPairs = undefined;
        throw err;
      },
    );
    return this.cachedPairs;
  }

  async translate(text: string, from: string, to: string): Promise<string> {
    const pair = `${iso3(from)}-${iso3(to)}`;
    // The apertium script opens /dev/stdin by name, which fails on the socket Node gives a child
    // as stdin; the text goes through a private temporary file instead.
    const file = path.join(os.tmpdir(), `aula-apertium-${randomBytes(8).toString('hex')}.txt`);
    await fs.writeFile(file, text, { encoding: 'utf8', mode: 0o600 });
    let out: string;
    try {
      // -u: no '*' marks on unknown words; the text is for people, not for debugging the dictionary.
      out = await run(this.opts.bin, ['-u', pair, file], '', this.opts.timeoutMs, Buffer.byteLength(text) * 8 + 65_536);
    } finally {
      await fs.rm(file, { force: true });
    }
    // apertium may add a trailing newline; keep the text's own ending.
    return text.endsWith('\n') ? out : out.replace(/\n$/, '');
  }
}
