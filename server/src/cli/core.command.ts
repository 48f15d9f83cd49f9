import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config.ts';
import { SCOPES, SYSTEM_ACTOR, type Scope } from '../modules/identity/actor.ts';
import { createUserBody } from '../modules/identity/identity.schemas.ts';
import { AppError } from '../platform/errors.ts';
import type { Role } from '../server.ts';

// Heavy modules (the whole service graph, vision) load only when a command needs them, so
// `aula --help` and light commands start fast.
const lazyContext = async () => (await import('../context.ts')).createContext;
const lazyServer = async () => import('../server.ts');

const ROLES: Role[] = ['api', 'ingest-grpc', 'worker'];

export function registerCoreCommands(program: Command, config: () => Config): void {
  program
    .command('start')
    .description('run everything in one process (web, REST, WebSocket, gRPC, workers)')
    .action(async () => {
      const { runServer, stopOnSignals } = await lazyServer();
      stopOnSignals(await runServer(config(), 'all'));
    });

  program
    .command('serve')
    .description(`run one role of a scaled deployment: ${ROLES.join(', ')}`)
    .argument('<role>', 'api | ingest-grpc | worker', (v: string) => {
      if (!ROLES.includes(v as Role)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
      return v as Role;
    })
    .action(async (role: Role) => {
      const { runServer, stopOnSignals } = await lazyServer();
      stopOnSignals(await runServer(config(), role));
    });

  program
    .command('migrate')
    .description('apply (up) or roll back (down) database migrations')
    .argument('[direction]', 'up | down', 'up')
    .option('--all', 'with down: roll back every migration')
    .action(async (direction: string, opts: { all?: boolean }) => {
      if (direction !== 'up' && direction !== 'down') throw new InvalidArgumentError('direction must be up or down');
      const [{ createDb }, { migrateDown, migrateToLatest }] = await Promise.all([
        import('../platform/db/database.ts'),
        import('../platform/db/migrator.ts'),
      ]);
      const db = createDb(config().databaseUrl);
      try {
        const names = direction === 'up' ? await migrateToLatest(db) : await migrateDown(db, opts.all ?? false);
        console.log(names.length ? `${direction}: ${names.join(', ')}` : 'nothing to do');
      } finally {
        await db.destroy();
      }
    });

  program
    .command('seed')
    .description('load data')
    .argument('<what>', 'demo')
    .action(async (what: string) => {
      if (what !== 'demo') throw new InvalidArgumentError('only "demo" can be seeded');
      const ctx = await (await lazyContext())(config());
      try {
        const { ensureBootstrap } = await import('../seed/bootstrap.ts');
        const boot = await ensureBootstrap(ctx);
        if (!boot.seededDemo) {
          const { seedDemo } = await import('../seed/demo.ts');
          await seedDemo(ctx);
        }
        if (boot.generatedAdminPassword) console.log(`admin password: ${boot.generatedAdminPassword}`);
        console.log('demo data loaded');
      } finally {
        await ctx.close();
      }
    });

  const users = program.command('users').description('manage accounts');
  users
    .command('create')
    .description('create an account')
    .requiredOption('--username <username>')
    .requiredOption('--email <email>')
    .requiredOption('--name <fullName>')
    .option('--role <role>', 'admin | teacher | student', 'student')
    .option('--password <password>', 'defaults to $AULA_NEW_PASSWORD or a generated one')
    .option('--student-code <code>')
    .action(
      async (o: {
        username: string;
        email: string;
        name: string;
        role: string;
        password?: string;
        studentCode?: string;
      }) => {
        const generated = o.password
          ? undefined
          : Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2, 8);
        const parsed = createUserBody.safeParse({
          username: o.username,
          email: o.email,
          fullName: o.name,
          role: o.role,
          password: o.password ?? generated,
          ...(o.studentCode ? { studentCode: o.studentCode } : {}),
        });
        if (!parsed.success) {
          throw new AppError(
            'invalid_user',
            400,
            parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        }
        const ctx = await (await lazyContext())(config());
        try {
          const u = await ctx.identity.createUser(parsed.data, SYSTEM_ACTOR);
          console.log(`created ${u.role} ${u.username} (${u.id})`);
          if (generated) console.log(`password: ${generated}`);
        } finally {
          await ctx.close();
        }
      },
    );

  const tokens = program.command('tokens').description('manage API tokens');
  tokens
    .command('create')
    .description('create an API token; the token is printed alone on the last line')
    .requiredOption('--user <username>')
    .requiredOption('--scopes <scopes>', `comma-separated: ${SCOPES.join(', ')}`)
    .requiredOption('--name <name>')
    .option('--expires-in-days <days>', 'expiry', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
      return n;
    })
    .action(async (o: { user: string; scopes: string; name: string; expiresInDays?: number }) => {
      const scopes = o.scopes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = scopes.filter((s) => !SCOPES.includes(s as Scope));
      if (bad.length || scopes.length === 0) {
        throw new InvalidArgumentError(`unknown scope(s) ${bad.join(', ')}; use ${SCOPES.join(', ')}`);
      }
      const ctx = await (await lazyContext())(config());
      try {
        const user = await ctx.identity.findUserByUsername(o.user);
        if (!user) throw new AppError('not_found', 404, `No user named ${o.user}`);
        const { token, row } = await ctx.identity.createApiToken(SYSTEM_ACTOR, {
          userId: user.id,
          name: o.name,
          scopes: scopes as Scope[],
          expiresInDays: o.expiresInDays,
        });
        console.log(`created token ${row.id} for ${user.username} with scopes ${row.scopes}`);
        console.log(token);
      } finally {
        await ctx.close();
      }
    });
}
