import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { describeEachDialect } from '../../test/databases.ts';
import { buildUser } from '../../test/factories.ts';
import { IdentityRepository } from './identity.repository.ts';

/** The user search treats %, _ and ! in the query as plain characters on every database. */
describeEachDialect('user search', (dialect) => {
  let t: TestApp;
  let repo: IdentityRepository;
  const list = (q: string) =>
    repo
      .listUsers({ q, sort: 'username', order: 'asc', limit: 50, offset: 0 })
      .then((r) => r.items.map((u) => u.full_name));

  beforeAll(async () => {
    t = await createTestApp({ dialect });
    repo = new IdentityRepository(t.ctx.db.kysely);
    for (const fullName of ['Ana 100% Lopez', 'Ana 1000 Lopez', 'Bea_Ruiz', 'BeaXRuiz', 'Carla! Diaz', 'Carla Diaz'])
      await buildUser(t.ctx, { fullName });
  });
  afterAll(() => t?.close());

  it('matches a percent sign literally', async () => {
    expect(await list('100%')).toEqual(['Ana 100% Lopez']);
  });

  it('matches an underscore literally', async () => {
    expect(await list('bea_')).toEqual(['Bea_Ruiz']);
  });

  it('matches the escape character itself literally', async () => {
    expect(await list('carla!')).toEqual(['Carla! Diaz']);
  });

  it('still finds substrings case-insensitively in names', async () => {
    expect((await list('ANA 10')).sort()).toEqual(['Ana 100% Lopez', 'Ana 1000 Lopez']);
  });
});
