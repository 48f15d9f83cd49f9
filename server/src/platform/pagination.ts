import { z } from 'zod';

/** The one pagination shape of every list endpoint: ?limit=&offset= → { items, total, limit, offset }. */
export const paginationQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number(), limit: z.number(), offset: z.number() });
