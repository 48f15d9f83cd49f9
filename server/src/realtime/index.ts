import type { Server as HttpServer } from 'node:http';
import type { AppContext } from '../context.ts';
import { startGradesFeed } from './grades-feed.ts';
import { attachRealtime, type Realtime } from './sockets.ts';

export type { Realtime } from './sockets.ts';

/**
 * Socket.IO on the HTTP server of an `all` or `api` process, with every feed the product has.
 * Call before `listen`; close before the HTTP server closes.
 */
export async function startRealtime(
  ctx: AppContext,
  httpServer: HttpServer,
  opts: { emitsPerSecond?: number; revalidateEveryMs?: number } = {},
): Promise<Realtime> {
  const realtime = await attachRealtime(ctx, httpServer, opts);
  const stops: (() => void)[] = [startGradesFeed(ctx, realtime, ctx.grades)];
  return {
    ...realtime,
    close: async () => {
      for (const stop of stops.splice(0)) stop();
      await realtime.close();
    },
  };
}
