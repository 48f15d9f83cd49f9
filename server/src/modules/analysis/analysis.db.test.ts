import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../platform/db/database.ts';
import { ID_PATTERN, idFromKey, newId } from '../../platform/ids.ts';
import { describeEachDialect, openTestDb } from '../../test/databases.ts';
import { SYSTEM_ACTOR, type Actor } from '../identity/actor.ts';
import { AnalysisRepository } from './analysis.repository.ts';
import { PredictionLedger } from './ledger.ts';

describeEachDialect('prediction ledger', (dialect) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let repo: AnalysisRepository;
  let ledger: PredictionLedger;
  const alice: Actor = { ...SYSTEM_ACTOR, id: newId(), role: 'student', via: 'session', username: 'alice' };
  const bob: Actor = { ...SYSTEM_ACTOR, id: newId(), role: 'student', via: 'session', username: 'bob' };

  beforeAll(async () => {
    ({ db, cleanup } = await openTestDb(dialect));
    repo = new AnalysisRepository(db.kysely);
    ledger = new PredictionLedger(repo);
  });
  afterAll(async () => {
    await cleanup();
  });

  const base = {
    jobId: null,
    source: 'lab' as const,
    modelVersion: '1.0.0',
    weightsSha256: 'f'.repeat(64),
    parameters: { minConfidence: 0.5 },
    inputBlobId: null,
  };

  it('stores every field as given, including outputs larger than 64 KB', async () => {
    const big = {
      faces: Array.from({ length: 60 }, (_, i) => ({
        i,
        descriptor: Array.from({ length: 128 }, (_, k) => Math.sin(i * 128 + k)),
      })),
    };
    expect(JSON.stringify(big).length).toBeGreaterThan(65_536);
    const row = await ledger.record({
      ...base,
      userId: alice.id,
      model: 'face-embedding',
      inputSha256: 'a'.repeat(64),
      output: big,
      durationMs: 12.34,
    });
    const back = await ledger.get(alice, row.id);
    expect(back).toMatchObject({
      user_id: alice.id,
      model: 'face-embedding',
      model_version: '1.0.0',
      input_sha256: 'a'.repeat(64),
      source: 'lab',
    });
    expect(JSON.parse(back.output)).toEqual(big);
    expect(JSON.parse(back.parameters)).toEqual({ minConfidence: 0.5 });
    expect(Number(back.duration_ms)).toBe(12.3);
    await expect(ledger.get(bob, row.id)).rejects.toMatchObject({ status: 404 });
  });

  it('cannot be changed or deleted: no repository method does it and the database refuses it', async () => {
    const methods = Object.getOwnPropertyNames(AnalysisRepository.prototype);
    expect(methods.filter((m) => /prediction/i.test(m)).sort()).toEqual([
      'countPredictionsOfJob',
      'findPrediction',
      'insertPrediction',
      'insertPredictionIfAbsent',
      'listPredictions',
      'listPredictionsAfter',
      'listPredictionsOfJob',
    ]);

    const row = await ledger.record({
      ...base,
      userId: alice.id,
      model: 'objects',
      inputSha256: 'd'.repeat(64),
      output: { objects: [] },
      durationMs: 3,
    });
    const k = db.kysely;
    await expect(
      k.updateTable('predictions').set({ output: '{"objects":["forged"]}' }).where('id', '=', row.id).execute(),
    ).rejects.toThrow(/prediction ledger rows cannot be changed or deleted/);
    await expect(k.deleteFrom('predictions').where('id', '=', row.id).execute()).rejects.toThrow(
      /prediction ledger rows cannot be changed or deleted/,
    );
    const back = await ledger.get(alice, row.id);
    expect(JSON.parse(back.output)).toEqual({ objects: [] });
    // New rows are still welcome.
    const next = await ledger.record({
      ...base,
      userId: alice.id,
      model: 'objects',
      inputSha256: 'd'.repeat(64),
      output: null,
      durationMs: 1,
    });
    expect((await ledger.get(alice, next.id)).id).toBe(next.id);
  });

  it('writes a row with a fixed id at most once, and only with the transaction it belongs to', async () => {
    const t0 = Date.now();
    const id = idFromKey(`capture-${t0}:3`, t0);
    expect(id).toMatch(ID_PATTERN);
    expect(idFromKey(`capture-${t0}:3`, t0)).toBe(id);
    expect(idFromKey(`capture-${t0}:4`, t0)).not.toBe(id);
    const entry = {
      ...base,
      source: 'attendance' as const,
      userId: alice.id,
      model: 'face-identification',
      inputSha256: 'e'.repeat(64),
      output: { faces: [] },
      durationMs: 5,
    };
    await db.kysely.transaction().execute(async (trx) => {
      await ledger.withExecutor(trx).record(entry, { id });
    });
    // A second run of the same work: the primary key refuses it, and the first row stands.
    await expect(ledger.record({ ...entry, output: { faces: ['again'] } }, { id })).rejects.toThrow();
    expect(JSON.parse((await ledger.get(alice, id)).output)).toEqual({ faces: [] });
    // A row written in a transaction that rolls back (its frame was not committed) is not there.
    const lost = idFromKey(`capture-${t0}:5`, t0);
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await ledger.withExecutor(trx).record(entry, { id: lost });
        throw new Error('frame write failed');
      }),
    ).rejects.toThrow('frame write failed');
    expect(await repo.findPrediction(lost)).toBeUndefined();
    expect((await ledger.list(alice, { inputSha256: 'e'.repeat(64), limit: 10, offset: 0 })).total).toBe(1);
  });

  it('keeps the first row of a fixed id when asked to write it only if absent, even inside a transaction', async () => {
    const t0 = Date.now();
    const id = idFromKey(`image-${t0}:${t0}:objects`, t0);
    const entry = {
      ...base,
      source: 'album' as const,
      userId: alice.id,
      model: 'objects',
      inputSha256: 'f'.repeat(64),
      output: { objects: [] },
      durationMs: 3,
    };
    const first = await ledger.record(entry, { id, ifAbsent: true });
    // The repeat is skipped, not refused: the transaction it runs in goes on (PostgreSQL would
    // abort it on a failed insert) and commits.
    const again = await db.kysely.transaction().execute(async (trx) => {
      const row = await ledger
        .withExecutor(trx)
        .record({ ...entry, output: { objects: ['again'] } }, { id, ifAbsent: true });
      await repo.withExecutor(trx).findPrediction(id);
      return row;
    });
    expect(again.id).toBe(first.id);
    expect(JSON.parse(again.output)).toEqual({ objects: [] });
    expect((await ledger.list(alice, { inputSha256: 'f'.repeat(64), limit: 10, offset: 0 })).total).toBe(1);
  });

  it('filters, pages and exports every matching row in order', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 1105; i++) {
      await repo.insertPrediction({
        id: newId(t0 + i),
        job_id: null,
        user_id: i % 2 ? bob.id : alice.id,
        source: 'api',
        created_at: t0 + 1000 + Math.floor(i / 3),
        model: i % 5 === 0 ? 'ocr' : 'objects',
        model_version: '1',
        weights_sha256: null,
        parameters: '{}',
        input_blob_id: null,
        input_sha256: i === 7 ? 'b'.repeat(64) : 'c'.repeat(64),
        output: JSON.stringify({ i }),
        duration_ms: 1,
      });
    }
    const bobs = await ledger.list(bob, { source: 'api', limit: 10, offset: 0 });
    expect(bobs.total).toBe(552);
    expect(bobs.items.every((p) => p.user_id === bob.id)).toBe(true);
    expect(bobs.items.map((p) => Number(p.created_at))).toEqual(
      [...bobs.items.map((p) => Number(p.created_at))].sort((a, b) => b - a),
    );
    expect((await ledger.list(bob, { inputSha256: 'b'.repeat(64), limit: 10, offset: 0 })).items).toHaveLength(1);
    const window = await ledger.list(bob, {
      source: 'api',
      model: 'ocr',
      from: t0 + 1000 + 30,
      to: t0 + 1000 + 60,
      limit: 100,
      offset: 0,
    });
    expect(
      window.items.every(
        (p) => Number(p.created_at) >= t0 + 1030 && Number(p.created_at) < t0 + 1060 && p.model === 'ocr',
      ),
    ).toBe(true);
    expect(window.total).toBe(window.items.length);
    expect(window.total).toBeGreaterThan(0);
    await expect(ledger.list(bob, { userId: alice.id, limit: 1, offset: 0 })).rejects.toMatchObject({ status: 403 });

    // More rows than one export batch: every row once, oldest first.
    const admin: Actor = { ...SYSTEM_ACTOR };
    let text = '';
    for await (const chunk of ledger.exportJson(admin, { source: 'api' })) text += chunk;
    const exported = JSON.parse(text) as { id: string; output: { i: number } }[];
    expect(exported).toHaveLength(1105);
    expect(exported.map((p) => p.output.i)).toEqual(Array.from({ length: 1105 }, (_, i) => i));
    let lines = 0;
    for await (const chunk of ledger.exportCsv(bob, { source: 'api' })) lines += chunk.split('\n').length - 1;
    expect(lines).toBe(553);
  });
});
