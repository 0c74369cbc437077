import { NextRequest } from 'next/server';
import { getRouteMatcher } from 'next/dist/shared/lib/router/utils/route-matcher';
import { getRouteRegex } from 'next/dist/shared/lib/router/utils/route-regex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as accessRoute } from '@/app/api/v1/stores/[store]/access/[...name]/route';
import { GET as getItemRoute } from '@/app/api/v1/stores/[store]/items/[...name]/route';
import { folderFromSegments, itemNameFromSegments } from '@/lib/validations/browse';
import { proxy } from '@/proxy';
import { bearer, startHarness, type Harness } from '../auth/harness';

// An address is decoded exactly once. Next.js decodes route parameters itself ("%2F" -> "/",
// "%252F" -> "%2F"), so a handler must not decode them again: "%252F" reaches it as the literal
// "%2F" (refused for its "%" with a 400), never as a "/" that would name another item. The proxy,
// which sees the address still encoded, decodes it once, the same way.

/** The route parameters Next.js hands a handler for a raw (still encoded) path, by its own matcher. */
function nextParams(route: string, rawPath: string): { store: string; name: string[] } {
  const params = getRouteMatcher(getRouteRegex(route))(rawPath);
  if (!params) throw new Error(`${rawPath} does not match ${route}`);
  return params as { store: string; name: string[] };
}

const ITEM = '/prod/payments/stripe-key';

describe('route parameters are decoded once (by Next.js), never again', () => {
  it('Next.js itself turns "%252F" into "%2F" and "%2F" into "/"', () => {
    expect(nextParams('/api/v1/stores/[store]/items/[...name]', '/api/v1/stores/local/items/prod/payments%252Fstripe-key').name).toEqual(['prod', 'payments%2Fstripe-key']);
    expect(nextParams('/api/v1/stores/[store]/items/[...name]', '/api/v1/stores/local/items/prod/payments%2Fstripe-key').name).toEqual(['prod', 'payments/stripe-key']);
  });

  it.each([
    [['prod', 'payments%2Fstripe-key'], /Name contains "%" \(first in level 2\)/],
    [['prod', 'payments%252Fstripe-key'], /Name contains "%"/],
    [['prod%2E%2E', 'x'], /Name contains "%"/],
  ])('itemNameFromSegments(%j) keeps the escape literal and refuses its percent sign', (segments, message) => {
    const result = itemNameFromSegments(segments);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.message).toMatch(message);
  });

  it('folderFromSegments keeps an escape literal too', () => {
    expect(folderFromSegments(['prod%2Fpayments'])).toMatchObject({ ok: false, problem: { rule: 'characters' } });
    expect(folderFromSegments(['prod', 'payments'])).toEqual({ ok: true, value: '/prod/payments/' });
  });

  describe('through the /api/v1 item handlers', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness();
    });
    afterAll(() => h?.cleanup());

    const routes = {
      items: { route: '/api/v1/stores/[store]/items/[...name]', handler: getItemRoute },
      access: { route: '/api/v1/stores/[store]/access/[...name]', handler: accessRoute },
    };

    async function get(kind: keyof typeof routes, rawTail: string) {
      const rawPath = `/api/v1/stores/local/${kind}${rawTail}`;
      const { route, handler } = routes[kind];
      const res = await handler(new Request(`http://dashboard.test${rawPath}`, bearer(h.tokens.admin)), { params: Promise.resolve(nextParams(route, rawPath)) });
      return { status: res.status, body: (await res.json()) as { name?: string; error?: string } };
    }

    it.each(['items', 'access'] as const)('%s: the plain address and one escaping a "/" once name the same item (200)', async (kind) => {
      expect((await get(kind, ITEM)).status).toBe(200);
      expect((await get(kind, '/prod/payments%2Fstripe-key')).status).toBe(200);
      if (kind === 'items') expect((await get(kind, '/prod/payments%2Fstripe-key')).body.name).toBe(ITEM);
    });

    it.each(['items', 'access'] as const)('%s: a twice-escaped "/" reaches the handler escaped once, literally: a 400 naming the percent sign, never the item', async (kind) => {
      const { status, body } = await get(kind, '/prod/payments%252Fstripe-key');
      expect(status).toBe(400);
      expect(body.error).toMatch(/Name contains "%" \(first in level 2\)/);
      expect(JSON.stringify(body)).not.toContain(ITEM);
    });

    it('a twice-escaped percent sign stays a literal escape: 400', async () => {
      expect((await get('items', '/prod/payments/stripe%2525key')).status).toBe(400);
    });
  });
});

describe('the proxy decodes the still-encoded address once', () => {
  const url = (path: string) => `http://127.0.0.1:3000${path}`;

  it.each([
    ['/items/local/prod/payments%252Fstripe-key', /Name contains &quot;%&quot;|Name contains "%"/],
    ['/browse/local/prod%252Fpayments', /Name contains &quot;%&quot;|Name contains "%"/],
  ])('%s: 400 naming the literal percent sign', async (path, message) => {
    const response = await proxy(new NextRequest(url(path)));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(message);
  });

  it.each(['/items/local/prod/payments%2Fstripe-key', '/items/local/prod/payments/stripe-key', '/browse/local/prod%2Fpayments'])('%s: let through', async (path) => {
    expect((await proxy(new NextRequest(url(path)))).status).toBe(200);
  });
});
