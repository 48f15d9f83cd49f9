import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT_PATHS } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { logger, text: () => lines.join('') };
}

describe('log redaction', () => {
  it('hides credential headers wherever a library logs them, and password/token fields', () => {
    const { logger, text } = capture();
    const headers = {
      host: 'aula.example.test',
      cookie: 'aula_session=SESSION1',
      authorization: 'Bearer TOKEN1',
      'x-csrf-token': 'CSRF1',
    };
    logger.info({ req: { headers } }, 'request');
    logger.trace({ busboyOptions: { headers, limits: { files: 1 } } }, 'multipart');
    logger.debug({ headers }, 'bare headers');
    logger.info({ res: { headers: { 'set-cookie': 'aula_session=SESSION2' } } }, 'response');
    logger.info({ password: 'PASSWORD1', user: { password: 'PASSWORD2', token: 'TOKEN2', secret: 'SECRET1' } }, 'x');
    const out = text();
    for (const s of ['SESSION1', 'SESSION2', 'TOKEN1', 'TOKEN2', 'CSRF1', 'PASSWORD1', 'PASSWORD2', 'SECRET1']) {
      expect(out).not.toContain(s);
    }
    expect(out).toContain('aula.example.test');
    expect(out.match(/\[redacted\]/g)?.length).toBe(14);
  });
});
