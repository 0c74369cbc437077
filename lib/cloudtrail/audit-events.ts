import 'server-only';
import path from 'node:path';
import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { EventIndex } from './event-index';

// The process-wide CloudTrail event index: PostgreSQL's "cloudtrail" schema when DATABASE_URL is
// set, else DATA_DIR/audit-events.db. Next.js bundles server code more than once (instrumentation,
// each route), so it lives on globalThis: every copy sees one index.

const RETENTION_EVERY_MS = 6 * 3_600_000;

interface Slot {
  key: string;
  index: Promise<EventIndex>;
}

const g = globalThis as unknown as { __auditEvents?: Slot; __auditRetention?: NodeJS.Timeout };

function slot(): Slot {
  const env = readEnv();
  const key = env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
  if (g.__auditEvents?.key !== key) {
    const options = { retentionDays: env.AUDIT_RETENTION_DAYS };
    const index = env.DATABASE_URL ? EventIndex.openPostgres(env.DATABASE_URL, options) : EventIndex.open(path.resolve(env.DATA_DIR), options);
    const fresh: Slot = { key, index };
    // A failed open is not remembered, so the next call tries again.
    index.catch(() => {
      if (g.__auditEvents === fresh) g.__auditEvents = undefined;
    });
    g.__auditEvents = fresh;
  }
  return g.__auditEvents;
}

/** The index, opened and migrated on first use (reopened when DATABASE_URL or DATA_DIR changes, as tests do). */
export function auditEventIndex(): Promise<EventIndex> {
  return slot().index;
}

/** Deletes events older than AUDIT_RETENTION_DAYS now and every six hours (once per process). */
export function startAuditRetention(): void {
  if (g.__auditRetention) return;
  const days = readEnv().AUDIT_RETENTION_DAYS;
  const purge = async () => {
    try {
      // Each time through auditEventIndex(): an index that failed to open is tried again.
      const deleted = await (await auditEventIndex()).purgeOlderThan(days);
      if (deleted > 0) logger.info({ deleted, days }, 'audit events past retention deleted');
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'audit retention purge failed');
    }
  };
  g.__auditRetention = setInterval(() => void purge(), RETENTION_EVERY_MS);
  g.__auditRetention.unref();
  setImmediate(() => void purge());
}
