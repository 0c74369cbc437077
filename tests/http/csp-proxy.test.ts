import { NextRequest } from 'next/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { badRequestPage } from '@/lib/http/bad-request-page';
import { proxy } from '@/proxy';

// The headers proxy.ts puts on what it lets through and on its own 400 answers: the policy with a
// nonce that is new on every request and also handed to Next.js on the request; HSTS only on https.

const url = (path: string) => `http://127.0.0.1:3000${path}`;
const nonceOf = (policy: string | null) => /'nonce-([A-Za-z0-9+/]+=*)'/.exec(policy ?? '')?.[1] ?? null;
/** The request headers Next.js renders the page with, as NextResponse.next({ request }) hands them on. */
const forwarded = (response: Response, name: string) => response.headers.get(`x-middleware-request-${name}`);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('proxy: Content-Security-Policy', () => {
  it('sends a policy with a nonce on a page, and hands the same policy to Next.js on the request', async () => {
    const response = await proxy(new NextRequest(url('/browse')));
    expect(response.status).toBe(200);
    const policy = response.headers.get('content-security-policy');
    expect(nonceOf(policy)).not.toBeNull();
    expect(policy).toContain("'strict-dynamic'");
    expect(forwarded(response, 'content-security-policy')).toBe(policy);
    expect(response.headers.get('x-middleware-override-headers')).toContain('content-security-policy');
  });

  it('uses a different nonce for every request', async () => {
    const nonces = await Promise.all(Array.from({ length: 20 }, async () => nonceOf((await proxy(new NextRequest(url('/')))).headers.get('content-security-policy'))));
    expect(new Set(nonces).size).toBe(20);
  });

  it('replaces a policy the client sent on its request, so nobody can choose the nonce Next.js uses', async () => {
    const response = await proxy(new NextRequest(url('/browse'), { headers: { 'content-security-policy': "script-src 'nonce-AAAAAAAAAAAAAAAAAAAAAA=='" } }));
    expect(forwarded(response, 'content-security-policy')).toBe(response.headers.get('content-security-policy'));
    expect(nonceOf(forwarded(response, 'content-security-policy'))).not.toBe('AAAAAAAAAAAAAAAAAAAAAA==');
  });

  it('sends the policy on API answers too', async () => {
    const response = await proxy(new NextRequest(url('/api/v1/inventory')));
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('adds unsafe-eval in next dev only', async () => {
    expect((await proxy(new NextRequest(url('/')))).headers.get('content-security-policy')).not.toContain('unsafe-eval');
    vi.stubEnv('NODE_ENV', 'development');
    expect((await proxy(new NextRequest(url('/')))).headers.get('content-security-policy')).toContain("'unsafe-eval'");
  });
});

describe('proxy: the 400 page', () => {
  it('carries the policy, and its one style element carries that policy\u2019s nonce', async () => {
    const response = await proxy(new NextRequest(url('/browse/local/%ZZ')));
    expect(response.status).toBe(400);
    const nonce = nonceOf(response.headers.get('content-security-policy'));
    expect(nonce).not.toBeNull();
    const html = await response.text();
    expect(html.match(/<style[^>]*>/g)).toEqual([`<style nonce="${nonce}">`]);
  });

  it('has no script, no event handler attribute and no style attribute, whatever the address holds', async () => {
    // Well-formed escapes of a name the item rules refuse: the page quotes it decoded.
    const response = await proxy(new NextRequest(url('/items/local/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E')));
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).not.toMatch(/<script/i);
    // Attributes inside tags only: the escaped address may say "onerror" as text.
    for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) {
      expect(tag).not.toMatch(/\son[a-z]+\s*=/i);
      expect(tag).not.toMatch(/\sstyle\s*=/i);
    }
    expect(html).not.toContain('<img');
  });

  it('escapes the nonce it is given like any other text', () => {
    expect(badRequestPage('/x', 'bad', '"><script>')).toContain('<style nonce="&quot;&gt;&lt;script&gt;">');
  });

  it("draws the page in the theme cookie's choice, and in the system's for no or an unknown choice", async () => {
    const page = async (cookie: string | null) => {
      const request = new NextRequest(url('/browse/local/%ZZ'), { headers: cookie ? { cookie } : {} });
      return /<html[^>]*>/.exec(await (await proxy(request)).text())![0];
    };
    expect(await page('theme=dark')).toBe('<html lang="en" data-theme="dark">');
    expect(await page('theme=light')).toBe('<html lang="en" data-theme="light">');
    expect(await page(null)).toBe('<html lang="en">');
    expect(await page('theme=system')).toBe('<html lang="en">');
    expect(await page('theme=%22%3E%3Cscript%3E')).toBe('<html lang="en">');
  });

  it('answers a malformed API address with JSON that carries the policy too', async () => {
    const response = await proxy(new NextRequest(url('/api/v1/stores/%ZZ/items')));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(nonceOf(response.headers.get('content-security-policy'))).not.toBeNull();
  });
});

describe('proxy: Strict-Transport-Security', () => {
  it('is absent when NEXTAUTH_URL is unset or http', async () => {
    vi.stubEnv('NEXTAUTH_URL', '');
    expect((await proxy(new NextRequest(url('/browse')))).headers.get('strict-transport-security')).toBeNull();
    vi.stubEnv('NEXTAUTH_URL', 'http://dashboard.internal:3000');
    const response = await proxy(new NextRequest(url('/browse')));
    expect(response.headers.get('strict-transport-security')).toBeNull();
    expect(response.headers.get('reporting-endpoints')).toBeNull();
  });

  it('is sent, with the Reporting API endpoint, on pages and on the 400 page when NEXTAUTH_URL is https', async () => {
    vi.stubEnv('NEXTAUTH_URL', 'https://secrets.example.com');
    for (const path of ['/browse', '/browse/local/%ZZ']) {
      const response = await proxy(new NextRequest(url(path)));
      expect(response.headers.get('strict-transport-security'), path).toBe('max-age=63072000; includeSubDomains');
      expect(response.headers.get('reporting-endpoints'), path).toBe('csp="https://secrets.example.com/api/csp-report"');
      expect(response.headers.get('content-security-policy'), path).toContain('report-to csp');
    }
  });
});

describe('proxy: requests of Next.js itself', () => {
  // Found while checking the policy in a browser: every prefetch of /freshness answered 400.
  it('lets the _rsc cache key of client navigation and prefetch through on /freshness, still refusing unknown filters', async () => {
    const rsc = { headers: { rsc: '1', 'next-router-prefetch': '1' } };
    expect((await proxy(new NextRequest(url('/freshness?_rsc=5cb68'), rsc))).status).toBe(200);
    expect((await proxy(new NextRequest(url('/freshness?store=local&status=overdue&_rsc=5cb68'), rsc))).status).toBe(200);
    expect((await proxy(new NextRequest(url('/freshness?colour=red&_rsc=5cb68'), rsc))).status).toBe(400);
  });
});
