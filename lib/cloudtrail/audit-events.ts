import 'server-only';
import path from 'node:path';
import { readEnv } from '@/lib/config/env';
import { EventIndex } from './event-index';

// The process-wide CloudTrail event index. Next.js bundles server code more than once
// (instrumentation, each route), so it lives on globalThis: every copy sees one connection.

const g = globalThis as unknown as { __auditEvents?: { dir: string; index: EventIndex } };

export function auditEventIndex(): EventIndex {
  const env = readEnv();
  const dir = path.resolve(env.DATA_DIR);
  if (g.__auditEvents?.dir !== dir) {
    g.__auditEvents = { dir, index: EventIndex.open(dir, { retentionDays: env.AUDIT_RETENTION_DAYS }) };
  }
  return g.__auditEvents.index;
}
