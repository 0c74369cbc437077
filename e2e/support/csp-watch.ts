import type { APIRequestContext, Page, Response } from '@playwright/test';

// Watches a page for anything the Content-Security-Policy refuses: the `securitypolicyviolation`
// events of every document (listened for before the document's first byte is parsed), console
// lines such as "Refused to apply inline style…", and page errors. It also keeps each document
// response's policy and HTML, so a spec can check their nonces and attributes.

export interface Violation {
  page: string;
  directive: string;
  blocked: string;
  sample: string;
  source: string;
}

export interface DocumentResponse {
  url: string;
  status: number;
  policy: string | null;
  hsts: string | null;
  html: string;
}

/** The counts GET /api/csp-report answers admins with. */
export interface ReportCounts {
  total: number;
  refusedForRate: number;
  byDirective: Record<string, number>;
}

const BINDING = '__cspViolation';

export async function watchCsp(page: Page) {
  const violations: Violation[] = [];
  const consoleRefusals: string[] = [];
  const pageErrors: string[] = [];
  const documents: Promise<DocumentResponse | null>[] = [];

  await page.exposeFunction(BINDING, (v: Violation) => {
    violations.push(v);
  });
  await page.addInitScript((binding) => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) => {
        const report = (window as unknown as Record<string, (v: unknown) => void>)[binding];
        report?.({
          page: location.pathname + location.search,
          directive: e.effectiveDirective,
          blocked: e.blockedURI,
          sample: e.sample,
          source: `${e.sourceFile}:${e.lineNumber}`,
        });
      },
      true,
    );
  }, BINDING);
  page.on('console', (message) => {
    if (/Refused to|Content[ -]Security[ -]Policy/i.test(message.text())) consoleRefusals.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  page.on('response', (response: Response) => {
    if (response.request().resourceType() !== 'document' || response.request().frame() !== page.mainFrame()) return;
    const headers = response.headers();
    documents.push(
      response
        .text()
        .then((html) => ({
          url: response.url(),
          status: response.status(),
          policy: headers['content-security-policy'] ?? null,
          hsts: headers['strict-transport-security'] ?? null,
          html,
        }))
        // A redirect has no body.
        .catch(() => null),
    );
  });

  return {
    violations,
    consoleRefusals,
    pageErrors,
    /** Every main-frame document response so far (redirects left out). */
    async documents(): Promise<DocumentResponse[]> {
      return (await Promise.all(documents)).filter((d): d is DocumentResponse => d !== null && (d.status < 300 || d.status >= 400));
    },
  };
}

/** The nonce in a policy's script-src, or null. */
export function scriptNonce(policy: string | null): string | null {
  const scriptSrc = policy?.split(';').find((d) => d.trim().startsWith('script-src '));
  return /'nonce-([A-Za-z0-9+/]+={0,2})'/.exec(scriptSrc ?? '')?.[1] ?? null;
}

/** The opening tags of an HTML document. */
export function openingTags(html: string): string[] {
  return html.match(/<[a-zA-Z][^>]*>/g) ?? [];
}

/**
 * What in a document's HTML the policy would refuse or that should not be there: event handler
 * attributes, style attributes, javascript: URLs other than React's placeholder for a form whose
 * action is a function, and script or style elements without the document's nonce.
 */
export function inlineProblems(html: string, nonce: string | null): string[] {
  const problems: string[] = [];
  for (const tag of openingTags(html)) {
    if (/\son[a-z]+\s*=/i.test(tag)) problems.push(`event handler attribute: ${tag.slice(0, 160)}`);
    if (/\sstyle\s*=/i.test(tag)) problems.push(`style attribute: ${tag.slice(0, 160)}`);
    if (/\s(href|src|action|formaction)\s*=\s*["']?\s*javascript:/i.test(tag) && !/React form was unexpectedly submitted/.test(tag))
      problems.push(`javascript: URL: ${tag.slice(0, 160)}`);
    const name = /^<([a-zA-Z]+)/.exec(tag)![1]!.toLowerCase();
    const isInlineScript = name === 'script' && !/\ssrc\s*=/i.test(tag) && !/\stype\s*=\s*["']?application\/(ld\+)?json/i.test(tag);
    const isScriptFile = name === 'script' && /\ssrc\s*=/i.test(tag);
    if ((isInlineScript || isScriptFile || name === 'style') && (!nonce || !tag.includes(`nonce="${nonce}"`))) {
      problems.push(`<${name}> without this document's nonce: ${tag.slice(0, 160)}`);
    }
  }
  return problems;
}

/** GET /api/csp-report with the admin's session: the reports this server has received. */
export async function reportCounts(request: APIRequestContext): Promise<ReportCounts> {
  const response = await request.get('/api/csp-report');
  if (!response.ok()) throw new Error(`GET /api/csp-report answered ${response.status()}: ${await response.text()}`);
  return (await response.json()) as ReportCounts;
}

/** Resolves once Next.js's client runtime has started on the page (its scripts were allowed to run). */
export async function nextRuntimeStarted(page: Page): Promise<void> {
  await page.waitForFunction(() => Boolean((window as unknown as { next?: { version?: string } }).next?.version), undefined, { timeout: 15_000 });
}
