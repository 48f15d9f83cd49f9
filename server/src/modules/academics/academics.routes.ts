import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';

// Placeholder until the academics module lands.
export const academicsRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async () => {};
