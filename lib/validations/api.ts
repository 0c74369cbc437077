import { z } from 'zod';
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
});
