import 'server-only';
import { z } from 'zod';

// Violation reports that browsers POST to /api/csp-report (app/api/csp-report/route.ts), in both
// formats: report-uri's {"csp-report": {…}} and the Reporting API's [{type: "csp-violation", body}].
// Anyone can send one, so a report is read as untrusted input: bounded in size and count, validated,
// and boiled down to two things worth logging: which directive refused, and the ORIGIN of what was
// refused. The blocked URL's path and query, and the page's address, are never kept: they can hold
// tokens or the names of secrets.

/** Bigger bodies are refused before parsing; real reports are about 1 KiB each. */
export const MAX_REPORT_BYTES = 16 * 1024;
/** A Reporting API batch holds at most this many reports. */
export const MAX_REPORTS_PER_BODY = 50;
export const REPORT_CONTENT_TYPES = ['application/csp-report', 'application/reports+json', 'application/json'] as const;

/** Directive names as CSP defines them: anything else a report claims is counted as "unknown". */
const DIRECTIVES = new Set([
  'base-uri', 'child-src', 'connect-src', 'default-src', 'fenced-frame-src', 'font-src', 'form-action', 'frame-ancestors',
  'frame-src', 'img-src', 'manifest-src', 'media-src', 'object-src', 'prefetch-src', 'require-trusted-types-for', 'sandbox',
  'script-src', 'script-src-attr', 'script-src-elem', 'style-src', 'style-src-attr', 'style-src-elem', 'trusted-types',
  'upgrade-insecure-requests', 'worker-src',
]);
/** What browsers write in blocked-uri instead of a URL. */
const BLOCKED_KEYWORDS = new Set(['inline', 'eval', 'wasm-eval', 'self', 'data', 'blob', 'trusted-types-policy', 'trusted-types-sink']);

const text = (max: number) => z.string().max(max);

const legacyReport = z.object({
  'csp-report': z.object({
    'violated-directive': text(2048).optional(),
    'effective-directive': text(2048).optional(),
    'blocked-uri': text(8192).optional(),
    disposition: text(16).optional(),
  }),
});

const reportingApiBatch = z
  .array(
    z.object({
      type: text(64),
      body: z
        .object({
          effectiveDirective: text(2048).optional(),
          blockedURL: text(8192).optional(),
          disposition: text(16).optional(),
        })
        .optional(),
    }),
  )
  .min(1, { message: 'The report batch is empty.' })
  .max(MAX_REPORTS_PER_BODY, { message: `A report batch holds at most ${MAX_REPORTS_PER_BODY} reports.` });

export const cspReportBodySchema = z.union([legacyReport, reportingApiBatch]);

/** What is logged and counted of one report. */
export interface ViolationSummary {
  /** A CSP directive name, or "unknown". */
  directive: string;
  /** The blocked resource's origin (https://cdn.example), a keyword (inline, eval), a scheme (data:, chrome-extension:), or "none". */
  blocked: string;
}

export function directiveName(raw: string | undefined): string {
  const first = raw?.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return DIRECTIVES.has(first) ? first : 'unknown';
}

export function blockedOrigin(raw: string | undefined): string {
  const value = raw?.trim() ?? '';
  if (value === '') return 'none';
  if (BLOCKED_KEYWORDS.has(value.toLowerCase())) return value.toLowerCase();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'unparsable';
  }
  // Only network URLs have an origin worth naming; for the rest the scheme says enough.
  return ['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) ? url.origin : url.protocol;
}

/** The CSP violations in a validated body (a Reporting API batch may carry other report types: skipped). */
export function summarizeReports(body: z.infer<typeof cspReportBodySchema>): ViolationSummary[] {
  if (!Array.isArray(body)) {
    const report = body['csp-report'];
    return [{ directive: directiveName(report['effective-directive'] ?? report['violated-directive']), blocked: blockedOrigin(report['blocked-uri']) }];
  }
  return body
    .filter((report) => report.type === 'csp-violation' && report.body)
    .map((report) => ({ directive: directiveName(report.body!.effectiveDirective), blocked: blockedOrigin(report.body!.blockedURL) }));
}

/** The same violation repeated in one batch is logged once, with how many times. */
export function groupSummaries(summaries: ViolationSummary[]): (ViolationSummary & { count: number })[] {
  const groups = new Map<string, ViolationSummary & { count: number }>();
  for (const s of summaries) {
    const key = `${s.directive} ${s.blocked}`;
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { ...s, count: 1 });
  }
  return [...groups.values()];
}

/**
 * A token bucket for report requests (one process): `burst` at once, then `perSecond`. Reports need
 * no sign-in, so without it anyone could fill the server log.
 */
export function createReportLimiter({ burst, perSecond, now = () => Date.now() }: { burst: number; perSecond: number; now?: () => number }) {
  let tokens = burst;
  let last = now();
  return {
    /** Takes a token; false when the bucket is empty. */
    take(): boolean {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSecond);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    /** Whole seconds until the next token. */
    retryAfterSeconds(): number {
      return Math.max(1, Math.ceil((1 - tokens) / perSecond));
    },
  };
}

/** Reports received by this process since it started, per directive (the directive set is fixed, so this stays small). */
export function createReportCounter() {
  const since = new Date().toISOString();
  const byDirective = new Map<string, number>();
  let total = 0;
  let refused = 0;
  return {
    add(summaries: ViolationSummary[]) {
      for (const s of summaries) {
        total++;
        byDirective.set(s.directive, (byDirective.get(s.directive) ?? 0) + 1);
      }
    },
    /** A report request refused for its rate. */
    addRefused() {
      refused++;
    },
    snapshot() {
      return { since, total, refusedForRate: refused, byDirective: Object.fromEntries([...byDirective].sort(([a], [b]) => a.localeCompare(b))) };
    },
  };
}

/**
 * The body as text, at most `limit` bytes; null when it is longer (checked while reading, so a
 * missing or false Content-Length cannot make the server buffer more).
 */
export async function readBodyCapped(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
