import { z } from 'zod';
import { SORT_KEYS } from './browse';
import { statusListSchema } from './freshness';
import { checkFolderPath } from './item-name';

export const listItemsQuerySchema = z.object({
  path: z
    .string()
    .default('/')
    .superRefine((path, ctx) => {
      const problem = checkFolderPath(path);
      if (problem) ctx.addIssue({ code: 'custom', message: `path: ${problem.message}` });
    }),
  recursive: z.enum(['true', 'false', '1', '0'], { message: 'recursive must be true or false' }).optional().transform((v) => v === 'true' || v === '1'),
  cursor: z.string().max(4096, { message: 'cursor is too long' }).regex(/^[A-Za-z0-9_=-]*$/, { message: 'cursor is malformed' }).optional(),
  limit: z.coerce.number({ message: 'limit must be a number' }).int().min(1, { message: 'limit is at least 1' }).max(500, { message: 'limit is at most 500' }).default(100),
  sort: z.enum(SORT_KEYS, { message: `sort must be one of ${SORT_KEYS.join(', ')}` }).optional(),
  dir: z.enum(['asc', 'desc'], { message: 'dir must be asc or desc' }).optional(),
  q: z.string().max(200, { message: 'q (the name filter) may be at most 200 characters' }).optional(),
  /** Freshness statuses, comma-separated: only items with one of them. */
  status: z.preprocess((v) => (v === '' ? undefined : v), statusListSchema.optional()),
});

/** Search text is taken as plain text; anything longer than the index searches is cut, not refused. */
export const searchQuerySchema = z.object({
  q: z.string({ message: 'q (the text to search for) is required' }).max(100_000, { message: 'q is too long' }),
  limit: z.coerce.number({ message: 'limit must be a number' }).int().min(1, { message: 'limit is at least 1' }).max(50, { message: 'limit is at most 50' }).default(20),
});

export const inventoryQuerySchema = z.object({
  store: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'store must be a store id' }).optional(),
});
