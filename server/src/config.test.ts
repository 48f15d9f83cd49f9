import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, loadConfig } from './config.ts';

describe('config', () => {
  it('uses embedded defaults with no variables at all', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8000);
    expect(c.grpcPort).toBe(50051);
    expect(c.databaseUrl).toMatch(/^sqlite:.*aula\.db$/);
    expect(c.blobUrl).toMatch(/^file:.*blobs$/);
    expect(c.redisUrl).toBeUndefined();
  });

  it('reports every bad variable at once, by name', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'oracle://x', REDIS_URL: 'http://r', SESSION_TTL: 'forever' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const vars = (err as ConfigError).problems.map((p) => p.variable).sort();
    expect(vars).toEqual(['DATABASE_URL', 'PORT', 'REDIS_URL', 'SESSION_TTL']);
    expect((err as ConfigError).message).toContain('DATABASE_URL');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).port).toBe(8000);
  });

  it('documents every variable in the README configuration table', () => {
    const readme = fs.readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'));
    const missing = Object.keys(envSchema.shape).filter((k) => !table.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });
});
