import { authorize } from '@/lib/auth/authorize';
import { loadStoreConfigs } from '@/lib/config/stores';
import { listFindings } from '@/lib/data/findings';
import { ASFF_CLOSE, ASFF_OPEN, asffEntry, findingCsvHeader, findingCsvRow, type AsffOptions, type StoreLocation } from '@/lib/findings/export-formats';
import type { FindingDto, FindingQuery } from '@/lib/findings/queries';
import { json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { findingsErrorResponse } from '@/lib/http/findings-api';
import { logger } from '@/lib/logger';
import type { Principal } from '@/lib/auth/principal';
import { principalFromRequest } from '@/lib/session';
import { describeFindingProblems, MAX_FINDINGS_LIMIT, parseFindingFilters } from '@/lib/validations/finding';

export const dynamic = 'force-dynamic';

/**
 * GET /api/v1/findings?control=…&severity=…&store=…&account=…&owner=…&status=…: findings of the items
 * the caller may audit, worst first. Each filter may repeat or be a comma list; status defaults to open.
 *  - format=json (default): one keyset page, `{items, nextCursor}` (cursor, limit up to 1000);
 *  - format=csv: every matching finding, streamed page by page, as an attachment;
 *  - format=asff: every matching finding as AWS Security Finding Format, `{"Findings":[…]}`, for
 *    Security Hub's BatchImportFindings.
 */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    // Findings carry CloudTrail evidence: a caller without view-audit anywhere is refused (403, audited),
    // not given an empty list; the data layer then cuts to the paths they may audit.
    await authorize(principal, 'view-audit');
    const parsed = parseFindingFilters(new URL(request.url).searchParams);
    if (!parsed.ok) return jsonError(400, describeFindingProblems(parsed.problems), { fields: [...new Set(parsed.problems.map((p) => p.field))] });
    const { format, ...query } = parsed.value;
    const now = new Date();
    if (format === 'json') return json(await listFindings(principal, query, now));
    if (query.cursor) return jsonError(400, `cursor: a ${format} export is the whole filtered set; leave the cursor out`, { fields: ['cursor'] });
    // The first page is read before answering, so a failure is still a status code, not a cut file.
    const first = await listFindings(principal, { ...query, limit: MAX_FINDINGS_LIMIT }, now);
    const body = format === 'csv' ? csvStream(principal, query, first, now) : asffStream(principal, query, first, now, asffOptions());
    const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, '-');
    return new Response(body, {
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="findings-${stamp}${format === 'asff' ? '.asff.json' : '.csv'}"`,
        'cache-control': 'no-store',
      },
    });
  } catch (error) {
    return findingsErrorResponse(error);
  }
}

type Page = Awaited<ReturnType<typeof listFindings>>;

/** Every page after `first`, through listFindings (so each is cut to grants as the first was). */
async function* pagesAfter(principal: Principal, query: FindingQuery, first: Page, now: Date): AsyncGenerator<FindingDto[]> {
  yield first.items;
  let cursor = first.nextCursor;
  while (cursor) {
    const page = await listFindings(principal, { ...query, cursor, limit: MAX_FINDINGS_LIMIT }, now);
    yield page.items;
    cursor = page.nextCursor;
  }
}

function stream(pages: AsyncGenerator<FindingDto[]>, open: string, close: string, write: (f: FindingDto, first: boolean) => string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(open));
    },
    async pull(controller) {
      try {
        const next = await pages.next();
        if (next.done) {
          controller.enqueue(encoder.encode(close));
          controller.close();
          return;
        }
        let chunk = '';
        for (const finding of next.value) {
          chunk += write(finding, first);
          first = false;
        }
        if (chunk) controller.enqueue(encoder.encode(chunk));
      } catch (error) {
        logger.error({ err: error instanceof Error ? error.name : 'unknown' }, 'findings export failed');
        controller.error(error);
      }
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}

function csvStream(principal: Principal, query: FindingQuery, first: Page, now: Date): ReadableStream<Uint8Array> {
  return stream(pagesAfter(principal, query, first, now), findingCsvHeader(), '', (f) => findingCsvRow(f));
}

function asffStream(principal: Principal, query: FindingQuery, first: Page, now: Date, options: AsffOptions): ReadableStream<Uint8Array> {
  return stream(pagesAfter(principal, query, first, now), ASFF_OPEN, ASFF_CLOSE, (f, isFirst) => asffEntry(f, options, isFirst));
}

/** Each store's kind and region (a Vault store's mount and prefix), from the configuration (the resource of an ASFF finding). */
function asffOptions(): AsffOptions {
  const stores = new Map<string, StoreLocation>(
    loadStoreConfigs().map((c): [string, StoreLocation] => [
      c.id,
      c.kind === 'vault'
        ? { kind: 'vault', region: null, vault: { mount: c.mount, prefix: c.pathPrefix ? `${c.pathPrefix}/` : '' } }
        : { kind: c.kind, region: 'region' in c && typeof c.region === 'string' ? c.region : null },
    ]),
  );
  const region = process.env.AWS_REGION;
  return { stores, ...(region && /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? { defaultRegion: region } : {}) };
}
