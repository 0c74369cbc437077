import type { Page } from '@playwright/test';
import { expect } from './test';

// The leak walks' crawl (e2e/no-plaintext.spec.ts, e2e/vault-leak-walk.spec.ts): every page reachable
// from the start pages is fetched as a document over the signed-in session (the server-rendered HTML
// carries the page's whole RSC payload inline, so a value a server component passed anywhere is in it),
// and its links feed the walk. A browser also opens one page of each kind and every `browserEvery`-th
// page besides, so a response recorder on the page sees what a browser receives (scripts, styles,
// prefetched RSC payloads, client fetches): rendering every page in a browser takes minutes and found
// nothing the documents do not hold.

export interface PageWalkOptions {
  start: string[];
  /** At most this many documents. */
  maxPages: number;
  /** Besides one page of each kind, every this-many-th page is opened in the browser too. */
  browserEvery: number;
  /** Each document's body, as fetched (search it for what must not be there). */
  onDocument: (path: string, html: string) => void;
  /** Links not to follow (e.g. another spec's stores whose state flips meanwhile); all are followed by default. */
  skip?: (link: URL) => boolean;
}

export interface PageWalk {
  visited: number;
  opened: number;
  /** Documents fetched, by kind of page (pageKind). */
  byKind: Record<string, number>;
  /** Links found but not visited (more than maxPages): empty when the walk reached every page. */
  unvisited: string[];
}

/** The links of a server-rendered page (HTML-escaped hrefs). */
export function hrefsOf(html: string): string[] {
  return [...html.matchAll(/<a\b[^>]*\shref="([^"]*)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&').replaceAll('&#x27;', "'").replaceAll('&quot;', '"'));
}

/** What kind of page a path is, for choosing one of each to open in the browser. */
export function pageKind(url: URL): string {
  const [first = '', second = ''] = url.pathname.split('/').filter(Boolean);
  const depth = url.pathname.split('/').filter(Boolean).length;
  return `${first}/${first === 'settings' ? second : ''}/${Math.min(depth, 4)}/${[...url.searchParams.keys()].join(',')}`;
}

/** Walks every page reachable from `start` on the page's origin; every document must answer below 400. */
export async function walkPages(page: Page, origin: string, options: PageWalkOptions): Promise<PageWalk> {
  const queue = [...options.start];
  const seen = new Set(queue);
  const kindsOpened = new Set<string>();
  const byKind: Record<string, number> = {};
  let visited = 0;
  let opened = 0;
  while (queue.length > 0 && visited < options.maxPages) {
    const next = queue.shift()!;
    const url = new URL(next, origin);
    const response = await page.request.get(next);
    expect(response.status(), next).toBeLessThan(400);
    const html = await response.text();
    options.onDocument(next, html);
    const kind = pageKind(url);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    // An export link (/api/v1/findings?format=csv) is a download, which a browser does not open as a page;
    // its body was searched above like every document's.
    if (!url.pathname.startsWith('/api/') && (!kindsOpened.has(kind) || visited % options.browserEvery === 0)) {
      kindsOpened.add(kind);
      const opening = await page.goto(next);
      expect(opening?.status(), next).toBeLessThan(400);
      opened++;
    }
    visited++;
    for (const href of hrefsOf(html)) {
      const link = new URL(href, url);
      if (link.origin !== origin || options.skip?.(link)) continue;
      // Every path, and the sort and filter variants (one parameter at a time, one value each, no further
      // pages) of folder pages near the top and of the freshness lists: their combinations would multiply
      // the walk (the status filter's links add a status to the one shown: 31 combinations a folder).
      if (link.search && (link.pathname.split('/').length > 4 || [...link.searchParams.keys()].length > 1 || [...link.searchParams.values()].some((v) => v.includes(','))))
        continue;
      const key = link.pathname + link.search;
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(key);
      }
    }
  }
  return { visited, opened, byKind, unvisited: queue };
}
