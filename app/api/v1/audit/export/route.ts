import { authorize } from '@/lib/auth/authorize';
import { exportTimeline, type TimelineEntry } from '@/lib/data/audit-timeline';
import { errorResponse, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { logger } from '@/lib/logger';
import { principalFromRequest } from '@/lib/session';
import { exportFormatSchema, parseAuditRequest } from '@/lib/validations/audit-request';

export const dynamic = 'force-dynamic';

const CSV_COLUMNS = ['time', 'source', 'action', 'access', 'actor', 'actorType', 'storeId', 'itemName', 'sourceIp', 'outcome', 'errorCode', 'via'] as const;

/** RFC 4180 field; a leading =, +, - or @ is prefixed so a spreadsheet never runs it as a formula. */
function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function line(format: 'csv' | 'json', entry: TimelineEntry, first: boolean): string {
  if (format === 'csv') return `${CSV_COLUMNS.map((c) => csvField(entry[c])).join(',')}\r\n`;
  return `${first ? '' : ',\n'}${JSON.stringify(entry)}`;
}

/**
 * GET /api/v1/audit/export?format=csv|json&<the timeline's filters>: exactly the filtered set,
 * newest first, streamed page by page.
 */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    await authorize(principal, 'view-audit');
    const query = parseAuditRequest(new URL(request.url).searchParams, { format: exportFormatSchema });
    if (!query.ok) return jsonError(400, query.message);
    if (query.filters.cursor) return jsonError(400, 'cursor: an export is the whole filtered set; leave the cursor out');
    const { cursor: _cursor, bucket: _bucket, ...filters } = query.filters;
    const format = query.extra.format;
    const entries = exportTimeline(principal, filters);
    const encoder = new TextEncoder();
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '['));
      },
      async pull(controller) {
        try {
          const next = await entries.next();
          if (next.done) {
            if (format === 'json') controller.enqueue(encoder.encode(first ? ']\n' : '\n]\n'));
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode(line(format, next.value, first)));
          first = false;
        } catch (error) {
          logger.error({ err: error instanceof Error ? error.name : 'unknown' }, 'audit export failed');
          controller.error(error);
        }
      },
      async cancel() {
        await entries.return(undefined);
      },
    });
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    return new Response(body, {
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="audit-${stamp}.${format}"`,
        'cache-control': 'no-store',
      },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
