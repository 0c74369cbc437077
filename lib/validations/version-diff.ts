import { z } from 'zod';

// The comparison of two versions on an item's page: `?from=3&to=5` (Secrets Manager: version ids).
// The proxy checks it before the page runs (400 on a malformed or same-version pair) and the page
// parses it again, so both always agree. Whether the versions exist is the page's to say (404).
// Versions belong to one item and the item is the page's path, so a comparison across two items
// cannot be written at all.

/** A version number (Parameter Store, the built-in store) or a Secrets Manager version id (a UUID, or a ClientRequestToken of 32-64 characters). */
const VERSION_ID = /^[A-Za-z0-9-]{1,64}$/;

const versionIdSchema = (field: 'from' | 'to') =>
  z
    .array(z.string())
    .max(1, { message: `Give ${field} once.` })
    .transform((values) => values[0])
    .pipe(
      z
        .string()
        .refine((v) => VERSION_ID.test(v), {
          error: (issue) =>
            `${field}: "${String(issue.input).slice(0, 40)}" is not a version (a version number such as 3, or a version id of letters, digits and dashes, at most 64).`,
        })
        .optional(),
    );

export const versionCompareSchema = z
  .object({ from: versionIdSchema('from'), to: versionIdSchema('to') })
  .transform((pair, ctx) => {
    if (pair.from === undefined && pair.to === undefined) return null;
    if (pair.from === undefined || pair.to === undefined) {
      ctx.addIssue({ code: 'custom', message: 'Pick two versions to compare: give both from and to, e.g. ?from=3&to=5.' });
      return z.NEVER;
    }
    if (pair.from === pair.to) {
      ctx.addIssue({ code: 'custom', message: `Pick two different versions: version ${pair.from} compared with itself shows nothing.` });
      return z.NEVER;
    }
    return { from: pair.from, to: pair.to };
  });

export type VersionPair = { from: string; to: string };

export type VersionCompareResult = { ok: true; value: VersionPair | null } | { ok: false; message: string };

/** The pair to compare from a query (the proxy's URLSearchParams or a page's searchParams); null when none is asked for. */
export function parseVersionCompare(query: URLSearchParams | Record<string, string | string[] | undefined>): VersionCompareResult {
  const all = (key: string): string[] => {
    if (query instanceof URLSearchParams) return query.getAll(key);
    const value = query[key];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  };
  const parsed = versionCompareSchema.safeParse({ from: all('from'), to: all('to') });
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: parsed.error.issues.map((i) => i.message).join(' ') };
}
