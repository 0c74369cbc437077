import { NextResponse } from 'next/server';
import { sql } from 'kysely';
import { appDb } from '@/lib/db/app-db';
import { getStores } from '@/lib/stores/registry';
import { logger } from '@/lib/logger';

export const dynamic = 'force-dynamic';

/**
 * 200 once the stores are open and the database answers; 503 with the reason otherwise (a
 * replica whose PostgreSQL went away leaves the load balancer's rotation). Opening needs no AWS call.
 */
export async function GET() {
  try {
    const stores = await getStores();
    await sql`SELECT 1`.execute(await appDb());
    return NextResponse.json({ status: 'ok', stores: stores.length }, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'unknown error';
    logger.error({ reason }, 'health check failed');
    return NextResponse.json({ status: 'unavailable', reason }, { status: 503, headers: { 'cache-control': 'no-store' } });
  }
}
