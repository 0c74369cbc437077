import { z } from 'zod';
import { SORT_KEYS } from '@/lib/links';
import { statusListSchema } from './freshness';
import { checkFolderPath, checkItemName, type NameProblem } from './item-name';

// What a browse or item URL may contain. The proxy checks these before any page runs (400 on
// failure) and the pages parse them again, so both always agree.

export const storeIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'A store id is 1-63 lowercase letters, digits and dashes.');

export { SORT_KEYS, type SortKey } from '@/lib/links';

export const browseQuerySchema = z.object({
  q: z.string().max(200, 'The name filter may be at most 200 characters.').optional(),
  sort: z.enum(SORT_KEYS, { message: `sort must be one of ${SORT_KEYS.join(', ')}.` }).optional(),
  dir: z.enum(['asc', 'desc'], { message: 'dir must be asc or desc.' }).optional(),
  /** Freshness statuses, comma-separated (status=overdue,due-soon); worst first once parsed. */
  status: z.preprocess((v) => (v === '' ? undefined : v), statusListSchema.optional()),
  /** Keyset position: the page starts after the row this cursor names. */
  after: z
    .string()
    .max(4096, { message: 'The page position (after) is too long.' })
    .regex(/^[A-Za-z0-9_-]*$/, { message: 'The page position (after) is malformed; start again from the first page.' })
    .optional(),
});
export type BrowseQuery = z.infer<typeof browseQuerySchema>;

export type SegmentsResult = { ok: true; value: string } | { ok: false; problem: NameProblem };

// Route parameters reach pages and route handlers already decoded once by Next.js ("%2F" -> "/",
// "%252F" -> "%2F"), so the functions below take DECODED segments and never decode again: a
// "%252F" stays the literal "%2F" (refused for its "%"), never a "/". Only the proxy sees the
// address still encoded, and decodes it once with decodePathSegments first.

/** Raw (still encoded) path segments decoded once, as Next.js decodes route parameters. */
export function decodePathSegments(segments: string[]): { ok: true; value: string[] } | { ok: false; problem: NameProblem } {
  try {
    return { ok: true, value: segments.map((s) => decodeURIComponent(s)) };
  } catch {
    return { ok: false, problem: { rule: 'encoding', message: 'The address contains a malformed %-escape.' } };
  }
}

/** Decoded segments ["prod","payments"] -> "/prod/payments/"; [] -> "/". */
export function folderFromSegments(segments: string[] = []): SegmentsResult {
  const path = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
  const problem = checkFolderPath(path);
  return problem ? { ok: false, problem } : { ok: true, value: path };
}

/** Decoded segments ["prod","payments","key"] -> "/prod/payments/key". */
export function itemNameFromSegments(segments: string[] = []): SegmentsResult {
  const name = `/${segments.join('/')}`;
  const problem = checkItemName(name);
  return problem ? { ok: false, problem } : { ok: true, value: name };
}

export { browseHref, itemHref } from '@/lib/links';
