import 'server-only';
import { z } from 'zod';
import { StoreError } from './errors';

// Paging helpers shared by the AWS adapters: an opaque cursor that wraps AWS's NextToken and is
// bound to the listing it came from, and a short-lived cache for folder trees.

/** AWS may answer with empty pages that still carry a NextToken; follow at most this many per call. */
export const MAX_PAGES_PER_CALL = 25;
/** listFolders walks a whole subtree; stop after this many pages and show what was found. */
export const MAX_FOLDER_PAGES = 200;
export const FOLDER_CACHE_MS = 30_000;

const cursorSchema = z.object({
  /** The listing this cursor belongs to: path plus recursive flag. */
  q: z.string().max(4096),
  /** Which of the adapter's request sequences the cursor is in (Secrets Manager has two). */
  s: z.number().int().min(0).max(8).default(0),
  /** AWS NextToken; absent at the start of a sequence. */
  t: z.string().max(8192).optional(),
});
export type ListCursor = z.infer<typeof cursorSchema>;

export const listingKey = (path: string, recursive: boolean) => `${recursive ? 'r' : 'o'}:${path}`;

export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(storeId: string, raw: string, expectedKey: string): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success || result.data.q !== expectedKey) {
    throw new StoreError('invalid-name', storeId, `Store "${storeId}": the page cursor is malformed or belongs to another folder; start again from the first page.`);
  }
  return result.data;
}

export function clampPageSize(limit: number | undefined, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return max;
  return Math.max(1, Math.min(max, Math.floor(limit)));
}

/** Remembers results for a short time per key; a failed load is not remembered. */
export class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    this.entries.set(key, { at: this.now(), value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Immediate sub-folders of `path` among item names below it, sorted, each ending with '/'. */
export function childFolders(path: string, names: Iterable<string>): string[] {
  const children = new Set<string>();
  for (const name of names) {
    if (!name.startsWith(path)) continue;
    const rest = name.slice(path.length);
    const slash = rest.indexOf('/');
    if (slash > 0) children.add(path + rest.slice(0, slash + 1));
  }
  return [...children].sort();
}

export function isoDate(value: Date | undefined): string | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : null;
}

export function tagRecord(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) record[tag.Key] = tag.Value ?? '';
  return record;
}
