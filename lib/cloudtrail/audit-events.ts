import 'server-only';
import path from 'node:path';
import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { EventIndex } from './event-index';

// The process-wide CloudTrail event index. Next.js bundles server code more than once
// (instrumentation, each route), so it lives on globalThis: every copy sees one connection.

const RETENTION_EVERY_MS = 6 * 3_600_000;

const g = globalThis as unknown as { __auditEvents?: { dir: string; index: EventIndex; retention: NodeJS.Timeout | null } };

function slot() {
  const env = readEnv();
  const dir = path.resolve(env.DATA_DIR);
  if (g.__auditEvents?.dir !== dir) {
    g.__auditEvents = { dir, index: EventIndex.open(dir, { retentionDays: env.AUDIT_RETENTION_DAYS }), retention: null };
  }
  return g.__auditEvents;
}

export function auditEventIndex(): EventIndex {
  return slot().index;
}

/** Deletes events older than AUDIT_RETENTION_DAYS now and every six hours (once per process). */
export function startAuditRetention(): void {
  const current = slot();
  if (current.retention) return;
  const days = readEnv().AUDIT_RETENTION_DAYS;
  const purge = () => {
    try {
      const deleted = current.index.purgeOlderThan(days);
      if (deleted > 0) logger.info({ deleted, days }, 'audit events past retention deleted');
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'audit retention purge failed');
    }
  };
  current.retention = setInterval(purge, RETENTION_EVERY_MS);
  current.retention.unref();
  setImmediate(purge);
}
