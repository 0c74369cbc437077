import { json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { can } from '@/lib/auth/authorize';
import {
  createReportCounter,
  createReportLimiter,
  cspReportBodySchema,
  groupSummaries,
  MAX_REPORT_BYTES,
  readBodyCapped,
  REPORT_CONTENT_TYPES,
  summarizeReports,
} from '@/lib/http/csp-report';
import { logger } from '@/lib/logger';
import { principalFromRequest } from '@/lib/session';

export const dynamic = 'force-dynamic';

// Where browsers send Content-Security-Policy violation reports (report-uri, and report-to on https;
// see lib/http/content-security-policy.ts). No sign-in: the browser sends reports on its own. Each
// report is logged as one warning naming the directive and the blocked origin only.

/** 30 report requests at once, then one a second, per server process. */
const limiter = createReportLimiter({ burst: 30, perSecond: 1 });
const counter = createReportCounter();

export async function POST(request: Request) {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(REPORT_CONTENT_TYPES as readonly string[]).includes(type)) {
    return jsonError(415, `A CSP report is sent as ${REPORT_CONTENT_TYPES.join(', ')}; this request was "${type.slice(0, 100) || 'no content type'}".`);
  }
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_REPORT_BYTES) return jsonError(413, `A CSP report is at most ${MAX_REPORT_BYTES} bytes.`);
  if (!limiter.take()) {
    counter.addRefused();
    const response = jsonError(429, 'Too many CSP reports; try again later.');
    response.headers.set('retry-after', String(limiter.retryAfterSeconds()));
    return response;
  }
  const body = await readBodyCapped(request, MAX_REPORT_BYTES);
  if (body === null) return jsonError(413, `A CSP report is at most ${MAX_REPORT_BYTES} bytes.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return jsonError(400, 'The CSP report is not JSON.');
  }
  const result = cspReportBodySchema.safeParse(parsed);
  if (!result.success) {
    return jsonError(400, 'This is not a CSP violation report: expected {"csp-report": {…}} or a Reporting API batch [{"type": "csp-violation", "body": {…}}].');
  }
  const summaries = summarizeReports(result.data);
  counter.add(summaries);
  for (const { directive, blocked, count } of groupSummaries(summaries)) {
    logger.warn({ directive, blocked, count }, 'content security policy violation reported by a browser');
  }
  return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
}

/** For admins: how many reports this server process has received since it started, per directive. */
export async function GET(request: Request) {
  const principal = await principalFromRequest(request);
  if (!principal) return jsonError(401, UNAUTHENTICATED);
  if (!can(principal, 'manage-users')) return jsonError(403, 'Only admins can read the CSP report counts.');
  return json(counter.snapshot());
}
