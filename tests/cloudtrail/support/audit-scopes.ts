import { globsPattern, nameRanges } from '@/lib/auth/path-glob';
import type { AuditScope } from '@/lib/cloudtrail/event-scope';

/** An audit scope as the caller's grants make it: per store, its globs (null: the whole store). */
export const scopeOf = (grants: Record<string, string[] | null>, includeUnmapped = false): AuditScope => ({
  stores: Object.entries(grants).map(([storeId, globs]) => (globs === null ? { storeId, namePattern: null } : { storeId, namePattern: globsPattern(globs), ranges: nameRanges(globs) })),
  includeUnmapped,
});
