// The Content-Security-Policy (with a fresh nonce per request), Reporting-Endpoints and
// Strict-Transport-Security headers that proxy.ts sends with every page and API answer. Pure
// functions of their inputs, so the proxy (which runs before any page) and the tests share them.
//
// Scripts: only those carrying the request's nonce run, and what they load ('strict-dynamic').
// Next.js reads the nonce from the request's Content-Security-Policy header (the first
// `script-src` directive) and puts it on its own <script> and stylesheet <link> tags; pages must
// render per request for that (app/layout.tsx makes them all dynamic).
//
// Styles: stylesheets from this origin (Tailwind's CSS files under /_next/static) and <style>
// elements carrying the nonce (the proxy's 400 page). No 'unsafe-inline', so a style="" attribute in
// server HTML is refused: components set positions and widths through React after hydration, which
// writes them through the CSSOM (element.style), and CSP does not govern the CSSOM. Only `next dev`
// allows inline styles, for its error overlay and the style tags of hot reloading.

export const CSP_REPORT_PATH = '/api/csp-report';
/** The Reporting API endpoint name in `report-to` and the Reporting-Endpoints header. */
export const CSP_REPORT_GROUP = 'csp';
/** Two years, the value browsers' preload lists ask for. */
export const HSTS_VALUE = 'max-age=63072000; includeSubDomains';

export interface PolicyOptions {
  /** This request's nonce (createNonce()). */
  nonce: string;
  /** `next dev`: React rebuilds server error stacks with eval, and hot reloading injects style tags. */
  development: boolean;
  /**
   * Also name the Reporting API endpoint (`report-to`). Only on https: the Reporting API delivers to
   * secure origins only, and a browser that understands report-to ignores report-uri, so on plain http
   * report-to would lose every report.
   */
  reportTo: boolean;
}

/** 128 random bits, base64: unguessable and never reused (one per request). */
export function createNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const NONCE = /^[A-Za-z0-9+/]{22}==$/;

/** The policy's directives in order; `script-src` must come before any other `script-src-*` (Next.js takes the first). */
export function policyDirectives({ nonce, development, reportTo }: PolicyOptions): [string, ...string[]][] {
  if (!NONCE.test(nonce)) throw new Error('The CSP nonce must be 16 random bytes in base64 (createNonce()).');
  const nonceSource = `'nonce-${nonce}'`;
  return [
    ['default-src', "'self'"],
    ['script-src', "'self'", nonceSource, "'strict-dynamic'", ...(development ? ["'unsafe-eval'"] : [])],
    // Event handler attributes (onclick="…") never run, whatever else the policy allows.
    ['script-src-attr', "'none'"],
    development ? ['style-src', "'self'", "'unsafe-inline'"] : ['style-src', "'self'", nonceSource],
    ['img-src', "'self'", 'data:', 'blob:'],
    ['font-src', "'self'"],
    ['connect-src', "'self'"],
    ['object-src', "'none'"],
    ['base-uri', "'self'"],
    ['form-action', "'self'"],
    ['frame-src', "'none'"],
    ['frame-ancestors', "'none'"],
    ['report-uri', CSP_REPORT_PATH],
    ...(reportTo ? [['report-to', CSP_REPORT_GROUP] as [string, string]] : []),
  ];
}

export function contentSecurityPolicy(options: PolicyOptions): string {
  return policyDirectives(options)
    .map((parts) => parts.join(' '))
    .join('; ');
}

/** True when the public URL (NEXTAUTH_URL) is https; an unset or unparsable one counts as not. */
export function servedOverHttps(publicUrl: string | undefined): boolean {
  if (!publicUrl) return false;
  try {
    return new URL(publicUrl).protocol === 'https:';
  } catch {
    return false;
  }
}

export interface SecurityHeaderOptions {
  nonce: string;
  development: boolean;
  /** NEXTAUTH_URL: the address people reach the dashboard at. */
  publicUrl: string | undefined;
}

/**
 * The headers for one response: the policy, and on https the Reporting API endpoint and HSTS. HSTS on
 * plain http would be ignored by browsers anyway, and sending it from a dashboard reached over http
 * would say something untrue about the host.
 */
export function securityHeaders({ nonce, development, publicUrl }: SecurityHeaderOptions): Record<string, string> {
  const https = servedOverHttps(publicUrl);
  const headers: Record<string, string> = { 'Content-Security-Policy': contentSecurityPolicy({ nonce, development, reportTo: https }) };
  if (https) {
    headers['Reporting-Endpoints'] = `${CSP_REPORT_GROUP}="${new URL(CSP_REPORT_PATH, publicUrl).href}"`;
    headers['Strict-Transport-Security'] = HSTS_VALUE;
  }
  return headers;
}
