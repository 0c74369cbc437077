import { getScriptNonceFromHeader } from 'next/dist/server/app-render/get-script-nonce-from-header';
import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  createNonce,
  CSP_REPORT_PATH,
  HSTS_VALUE,
  policyDirectives,
  securityHeaders,
  servedOverHttps,
} from '@/lib/http/content-security-policy';

// The policy builder: what each directive allows in production and in `next dev`, that Next.js
// finds the nonce where it looks for it, and when HSTS and the Reporting API endpoint are sent.

/** The policy as a map of directive name to its sources. */
function parse(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}

describe('createNonce', () => {
  it('gives 16 random bytes in base64, different every time', () => {
    const nonces = Array.from({ length: 2000 }, createNonce);
    for (const nonce of nonces) {
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(Buffer.from(nonce, 'base64')).toHaveLength(16);
    }
    expect(new Set(nonces).size).toBe(nonces.length);
  });
});

describe('contentSecurityPolicy in production', () => {
  const nonce = createNonce();
  const policy = contentSecurityPolicy({ nonce, development: false, reportTo: false });
  const directives = parse(policy);

  it('runs only scripts carrying the nonce, and what they load', () => {
    expect(directives.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"]);
    expect(directives.get('script-src-attr')).toEqual(["'none'"]);
  });

  it('allows this origin\u2019s stylesheets and nonce-carrying style elements, never inline style attributes', () => {
    expect(directives.get('style-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(directives.has('style-src-attr')).toBe(false);
  });

  it('has neither unsafe-inline nor unsafe-eval anywhere', () => {
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).not.toContain('unsafe-hashes');
  });

  it('limits everything else to this origin, and plugins, frames, framing and foreign forms to nothing', () => {
    expect(Object.fromEntries(directives)).toMatchObject({
      'default-src': ["'self'"],
      'img-src': ["'self'", 'data:', 'blob:'],
      'font-src': ["'self'"],
      'connect-src': ["'self'"],
      'object-src': ["'none'"],
      'base-uri': ["'self'"],
      'form-action': ["'self'"],
      'frame-src': ["'none'"],
      'frame-ancestors': ["'none'"],
    });
  });

  it('sends violation reports to /api/csp-report, with report-to only when asked', () => {
    expect(directives.get('report-uri')).toEqual([CSP_REPORT_PATH]);
    expect(directives.has('report-to')).toBe(false);
    expect(parse(contentSecurityPolicy({ nonce, development: false, reportTo: true })).get('report-to')).toEqual(['csp']);
  });

  it('is one header line: directives separated by "; ", no line breaks', () => {
    expect(policy).not.toMatch(/[\r\n]/);
    expect(policy.split('; ')).toHaveLength(policyDirectives({ nonce, development: false, reportTo: false }).length);
  });

  it('puts the nonce where Next.js looks for it (the first script-src directive)', () => {
    expect(getScriptNonceFromHeader(policy)).toBe(nonce);
    expect(getScriptNonceFromHeader(contentSecurityPolicy({ nonce, development: true, reportTo: true }))).toBe(nonce);
  });

  it('refuses a nonce that is not createNonce()\u2019s, rather than sending a policy that breaks every page', () => {
    for (const bad of ['', 'short', "abc'; script-src *", 'A'.repeat(22) + '=']) {
      expect(() => contentSecurityPolicy({ nonce: bad, development: false, reportTo: false })).toThrow(/nonce/);
    }
  });
});

describe('contentSecurityPolicy in next dev', () => {
  const nonce = createNonce();
  const directives = parse(contentSecurityPolicy({ nonce, development: true, reportTo: false }));

  it('adds unsafe-eval for React\u2019s dev tools, still requiring the nonce', () => {
    expect(directives.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'", "'unsafe-eval'"]);
  });

  it('allows inline styles for the error overlay and hot reloading (no nonce: it would switch unsafe-inline off)', () => {
    expect(directives.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
  });
});

describe('securityHeaders', () => {
  const nonce = createNonce();

  it.each([undefined, '', 'http://127.0.0.1:3000', 'http://dashboard.internal', 'not a url', 'ftp://example.com'])(
    'sends no HSTS and no Reporting API endpoint when the public URL is %j',
    (publicUrl) => {
      const headers = securityHeaders({ nonce, development: false, publicUrl });
      expect(Object.keys(headers)).toEqual(['Content-Security-Policy']);
      expect(headers['Content-Security-Policy']).not.toContain('report-to');
      expect(headers['Content-Security-Policy']).toContain(`'nonce-${nonce}'`);
    },
  );

  it('sends HSTS for two years with subdomains, and the Reporting API endpoint, when the public URL is https', () => {
    const headers = securityHeaders({ nonce, development: false, publicUrl: 'https://secrets.example.com' });
    expect(headers['Strict-Transport-Security']).toBe(HSTS_VALUE);
    expect(HSTS_VALUE).toBe('max-age=63072000; includeSubDomains');
    expect(headers['Reporting-Endpoints']).toBe('csp="https://secrets.example.com/api/csp-report"');
    expect(parse(headers['Content-Security-Policy']!).get('report-to')).toEqual(['csp']);
    expect(parse(headers['Content-Security-Policy']!).get('report-uri')).toEqual(['/api/csp-report']);
  });

  it('reads the scheme only: case, port and path of the public URL do not matter', () => {
    expect(servedOverHttps('HTTPS://Secrets.Example.com:8443/dash')).toBe(true);
    expect(servedOverHttps('http://secrets.example.com:443')).toBe(false);
  });
});
