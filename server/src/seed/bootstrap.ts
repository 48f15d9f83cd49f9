import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';

export interface BootstrapResult {
  createdAdmin: boolean;
  generatedAdminPassword: string | undefined;
  seededDemo: boolean;
}

/**
 * First run: create the admin (password from AULA_ADMIN_PASSWORD, or generated and printed once)
 * and, when enabled, the demo school. Later runs find the admin and do nothing.
 */
export async function ensureBootstrap(ctx: AppContext): Promise<BootstrapResult> {
  const existing = await ctx.identity.findUserByUsername('admin');
  if (existing) return { createdAdmin: false, generatedAdminPassword: undefined, seededDemo: false };
  const generated = ctx.config.adminPassword ? undefined : randomBytes(12).toString('base64url');
  try {
    await ctx.identity.createUser(
      {
        username: 'admin',
        email: 'admin@aula.local',
        fullName: 'Aula Administrator',
        role: 'admin',
        password: ctx.config.adminPassword ?? generated,
      },
      SYSTEM_ACTOR,
    );
  } catch (err) {
    // Another instance won the race to create it.
    if (await ctx.identity.findUserByUsername('admin')) {
      return { createdAdmin: false, generatedAdminPassword: undefined, seededDemo: false };
    }
    throw err;
  }
  let seededDemo = false;
  if (ctx.config.seedDemo) {
    const { seedDemo } = await import('./demo.ts');
    // The demo accounts share the admin's password, so whoever reads it once can try every role.
    await seedDemo(ctx, { password: ctx.config.adminPassword ?? generated });
    seededDemo = true;
  }
  return { createdAdmin: true, generatedAdminPassword: generated, seededDemo };
}
