import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { collectMetrics } from '@/lib/metrics/collect-metrics';
import { metricsTokenMatches } from '@/lib/metrics/metrics-token';
import { renderMetrics } from '@/lib/metrics/render-metrics';

export const dynamic = 'force-dynamic';

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

/**
 * GET /metrics for Prometheus (`Authorization: Bearer <METRICS_TOKEN>`): items by store and freshness
 * status, inventory sync age and failures, and the worst items' ages, from the inventory. Without
 * METRICS_TOKEN the endpoint does not exist (404); a missing or wrong token is 401.
 *
 * Who sees what: every store, every path, with item names. That is sound only because no dashboard
 * principal is ever accepted here: not a session, not an API token, not even an admin's (grants
 * could not cut Prometheus series anyway). METRICS_TOKEN is a deployment secret set in the server's
 * environment next to NEXTAUTH_SECRET and MASTER_KEY, so whoever holds it already runs the server
 * and could read its whole inventory; hand it to monitoring only, never to a user.
 */
export async function GET(request: Request) {
  const env = readEnv();
  if (!env.METRICS_TOKEN) return new Response('Not found: /metrics is off (set METRICS_TOKEN to turn it on).\n', { status: 404, headers: TEXT });
  if (!metricsTokenMatches(request.headers.get('authorization'), env.METRICS_TOKEN)) {
    return new Response('Unauthorized: send "Authorization: Bearer <METRICS_TOKEN>".\n', {
      status: 401,
      headers: { ...TEXT, 'www-authenticate': 'Bearer realm="secrets-dashboard-metrics"' },
    });
  }
  try {
    const { contentType, body } = await renderMetrics(await collectMetrics(env.METRICS_MAX_ITEM_SERIES));
    return new Response(body, { status: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' } });
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.name : 'unknown' }, 'metrics scrape failed');
    return new Response('The metrics could not be gathered; check the server log.\n', { status: 500, headers: TEXT });
  }
}
