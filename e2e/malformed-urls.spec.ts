import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ADMIN } from './support/accounts';
import { expect, test } from './support/test';

// Malformed percent-encoding in the path or query of any route answers 400 naming the bad escape,
// signed in or not: JSON under /api, the HTML 400 page elsewhere, never a 5xx. The routes are found
// by globbing app/ for page.tsx and route.ts, so a route added later is covered without editing
// this file. Requests go out over raw HTTP with the exact path text, so nothing re-encodes them.

const BAD_ESCAPES = ['%ZZ', '%', '%E0%A4%A', '%C0%AF'] as const;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

type Route = { file: string; kind: 'page' | 'route'; segments: RouteSegment[]; methods: string[] };
type RouteSegment = { text: string; dynamic: boolean };
type Probe = { method: string; path: string; escape: string; route: string };
type Answer = { status: number; contentType: string; body: string };

/** Sample values for dynamic segments: "[store]" -> "local", "[...name]" -> "prod/payments/x". */
function sampleFor(folder: string): RouteSegment | null {
  if (folder.startsWith('(') || folder.startsWith('@') || folder.startsWith('_')) return null; // groups, slots, private
  if (folder.startsWith('[[...')) return { text: 'prod/payments', dynamic: true };
  if (folder.startsWith('[...')) return { text: 'prod/payments/x', dynamic: true };
  if (folder.startsWith('[')) return { text: 'local', dynamic: true };
  return { text: folder, dynamic: false };
}

function findRoutes(appDir: string): Route[] {
  const routes: Route[] = [];
  const walk = (dir: string, folders: string[]) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('_')) walk(full, [...folders, entry.name]);
        continue;
      }
      const match = /^(page|route)\.(tsx|ts|jsx|js)$/.exec(entry.name);
      if (!match) continue;
      const segments = folders.map(sampleFor).filter((s): s is RouteSegment => s !== null);
      let methods = ['GET'];
      if (match[1] === 'route') {
        const source = readFileSync(full, 'utf8');
        const exported = HTTP_METHODS.filter((m) =>
          new RegExp(`export\\s+(async\\s+)?function\\s+${m}\\b|export\\s+const\\s+${m}\\b|export\\s*\\{[^}]*\\bas\\s+${m}\\b`).test(source),
        );
        // GET as well even where only POST is exported: a malformed address is refused before the method matters.
        methods = [...new Set(['GET', ...exported])];
      }
      routes.push({ file: path.relative(path.dirname(appDir), full), kind: match[1] as Route['kind'], segments, methods });
    }
  };
  walk(appDir, []);
  return routes;
}

const pathOf = (segments: string[]) => `/${segments.join('/')}`.replace(/\/+$/, '') || '/';

/** Every malformed address to try for one route. */
function probesFor(route: Route): Probe[] {
  const base = route.segments.map((s) => s.text);
  const probes: Omit<Probe, 'method' | 'route'>[] = [];
  for (const escape of BAD_ESCAPES) {
    // In each dynamic segment (inside a catch-all, as its last part) ...
    route.segments.forEach((segment, i) => {
      if (!segment.dynamic) return;
      const parts = segment.text.split('/');
      parts[parts.length - 1] = escape;
      probes.push({ escape, path: pathOf(base.map((text, j) => (j === i ? parts.join('/') : text))) });
    });
    // ... and as a bogus extra segment.
    probes.push({ escape, path: `${pathOf(base).replace(/\/$/, '')}/${escape}` });
  }
  const query = [
    ['?q=%ZZ', '%ZZ'],
    ['?%ZZ=1', '%ZZ'],
    ['?path=%', '%'],
    ['?sort=name&q=%E0%A4%A', '%E0%A4%A'],
    ['?q=%C0%AF', '%C0%AF'],
  ] as const;
  for (const [search, escape] of query) probes.push({ escape, path: `${pathOf(base)}${search}` });
  return route.methods.flatMap((method) => probes.map((p) => ({ ...p, method, route: route.file })));
}

function send(baseURL: string, probe: Probe, cookie: string | null): Promise<Answer> {
  const { hostname, port } = new URL(baseURL);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { hostname, port, method: probe.method, path: probe.path, headers: { ...(cookie ? { cookie } : {}), 'content-length': '0' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body }));
      },
    );
    request.setTimeout(15_000, () => request.destroy(new Error(`no answer to ${probe.method} ${probe.path} within 15 s`)));
    request.on('error', reject);
    request.end();
  });
}

/** What is wrong with the answer to one probe, or null. */
function verdict(probe: Probe, answer: Answer): string | null {
  if (answer.status >= 500) return `${answer.status}`;
  if (answer.status !== 400) return `${answer.status}, expected 400`;
  const isApi = probe.path === '/api' || probe.path.startsWith('/api/') || probe.path.startsWith('/api?');
  if (isApi) {
    if (!answer.contentType.startsWith('application/json')) return `400 as ${answer.contentType || 'no content type'}, expected JSON`;
    let error: unknown;
    try {
      error = (JSON.parse(answer.body) as { error?: unknown }).error;
    } catch {
      return `400 with a body that is not JSON: ${answer.body.slice(0, 80)}`;
    }
    if (typeof error !== 'string' || !error.includes(`malformed %-escape ("${probe.escape}")`)) return `400 whose error does not name ${probe.escape}: ${JSON.stringify(error)}`;
    return null;
  }
  if (!answer.contentType.startsWith('text/html')) return `400 as ${answer.contentType || 'no content type'}, expected the HTML 400 page`;
  if (!answer.body.includes(`malformed %-escape (&quot;${probe.escape}&quot;)`)) return `400 page that does not name ${probe.escape}`;
  return null;
}

async function probeAll(baseURL: string, cookie: string | null): Promise<{ sent: number; routes: Route[]; failures: string[] }> {
  const routes = findRoutes(path.resolve(test.info().project.testDir, '..', 'app'));
  const probes = routes.flatMap(probesFor);
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const probe = probes[next++]!;
      const answer = await send(baseURL, probe, cookie);
      const problem = verdict(probe, answer);
      if (problem) failures.push(`${probe.method} ${probe.path} (${probe.route}): ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { sent: probes.length, routes, failures };
}

test.describe('malformed %-escapes in any route', () => {
  test('the route list comes from app/ and covers pages, handlers and their methods', () => {
    const routes = findRoutes(path.resolve(test.info().project.testDir, '..', 'app'));
    const byFile = new Map(routes.map((r) => [r.file.split(path.sep).join('/'), r]));
    // A few known routes, to show the glob and the sample segments work (not a list to keep up to date).
    expect(pathOf(byFile.get('app/(dashboard)/items/[store]/[...name]/page.tsx')!.segments.map((s) => s.text))).toBe('/items/local/prod/payments/x');
    expect(pathOf(byFile.get('app/(dashboard)/browse/[store]/[[...path]]/page.tsx')!.segments.map((s) => s.text))).toBe('/browse/local/prod/payments');
    expect(pathOf(byFile.get('app/(dashboard)/page.tsx')!.segments.map((s) => s.text))).toBe('/');
    expect(byFile.get('app/api/v1/stores/[store]/reveal/[...name]/route.ts')!.methods).toEqual(['GET', 'POST']);
    expect(byFile.get('app/api/auth/[...nextauth]/route.ts')!.methods).toEqual(['GET', 'POST']);
    expect(byFile.get('app/api/health/route.ts')!.methods).toEqual(['GET']);
    expect(routes.filter((r) => r.kind === 'page').length).toBeGreaterThanOrEqual(5);
    expect(routes.filter((r) => r.kind === 'route').length).toBeGreaterThanOrEqual(5);
    // Each escape appears in a dynamic segment, as an extra segment, and in the query.
    const probes = probesFor(byFile.get('app/api/v1/stores/[store]/items/[...name]/route.ts')!);
    expect(probes.map((p) => p.path)).toEqual(
      expect.arrayContaining(['/api/v1/stores/%ZZ/items/prod/payments/x', '/api/v1/stores/local/items/prod/payments/%C0%AF', '/api/v1/stores/local/items/prod/payments/x/%', '/api/v1/stores/local/items/prod/payments/x?%ZZ=1']),
    );
  });

  test.describe('signed out', () => {
    test.use({ storageState: { cookies: [], origins: [] } });

    test('every route answers 400 naming the escape, never a 5xx', async ({ baseURL }) => {
      const { sent, failures } = await probeAll(baseURL!, null);
      expect(sent).toBeGreaterThan(100);
      expect(failures, failures.join('\n')).toEqual([]);
    });
  });

  test.describe('signed in as an admin', () => {
    test.use({ storageState: { cookies: [], origins: [] } });

    test('every route answers 400 naming the escape, never a 5xx', async ({ page, context, baseURL }) => {
      await page.goto('/sign-in');
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByTestId('current-user')).toContainText(ADMIN.email);
      const cookies = await context.cookies(baseURL!);
      expect(cookies.some((c) => c.name.endsWith('next-auth.session-token'))).toBe(true);
      const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');

      // The session works over raw HTTP too, so the probes below really run signed in.
      const control = await send(baseURL!, { method: 'GET', path: '/api/v1/stores/local/items?path=%2Fprod%2F', escape: '', route: 'control' }, cookie);
      expect(control.status, control.body.slice(0, 200)).toBe(200);

      const { sent, failures } = await probeAll(baseURL!, cookie);
      expect(sent).toBeGreaterThan(100);
      expect(failures, failures.join('\n')).toEqual([]);
    });
  });
});
