import { describe, expect, it } from 'vitest';
import { browseHref, itemHref, namePath } from '@/lib/links';
import { decodePathSegments, folderFromSegments, itemNameFromSegments } from '@/lib/validations/browse';

// Links to items and folders must reach the same literal name: a browser resolves "." and ".."
// levels of a URL before asking (RFC 3986 dot segments, %2E spellings too), so a name from AWS with
// such a level would otherwise open another item, or none.

/** What a page or route gets for a link: the path as a browser sends it, decoded once as Next.js does. */
function segmentsAfter(href: string, prefix: string): string[] {
  const path = new URL(href, 'https://dashboard.test').pathname;
  expect(path.startsWith(prefix)).toBe(true);
  const raw = path.slice(prefix.length).split('/').filter((s) => s !== '');
  const decoded = decodePathSegments(raw);
  if (!decoded.ok) throw new Error(decoded.problem.message);
  return decoded.value;
}

describe('links to literal names', () => {
  it.each([
    '/prod/payments/stripe-key',
    '/prod/payments/../../staging/KEY',
    '/prod/payments/../legacy/api-key',
    '/prod/./x',
    '/a/b/..',
    '/a/../..',
    '/../x',
    '/prod/a.b/..x/.hidden',
  ])('%s opens that very item', (name) => {
    const result = itemNameFromSegments(segmentsAfter(itemHref('params', name), '/items/params/'));
    expect(result).toEqual({ ok: true, value: name });
  });

  // A folder that is nothing but one dot level ("/../") has no neighbour to join and no link.
  it.each(['/prod/payments/', '/prod/payments/../', '/a/./b/'])('folder %s opens that very folder', (folder) => {
    expect(folderFromSegments(segmentsAfter(browseHref('params', folder), '/browse/params/'))).toEqual({ ok: true, value: folder });
  });

  it('leaves names without dot levels as they are', () => {
    expect(namePath('/prod/payments/stripe-key')).toBe('/prod/payments/stripe-key');
    expect(itemHref('local', '/a.b/c')).toBe('/items/local/a.b/c');
  });
});
