import 'server-only';
import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { auditEventIndex } from './audit-events';
import { createLookupSources } from './lookup-events-source';
import { S3CloudTrailSource } from './s3-source';
import { loadCloudTrailSources, type LookupEventsSourceConfig, type S3SourceConfig } from './sources-config';
import { CloudTrailSync, type CloudTrailSource } from './sync';

// The process-wide CloudTrail sync (like lib/inventory/inventory.ts). Next.js bundles server code
// more than once, so it lives on globalThis: every copy sees one sync.

const g = globalThis as unknown as { __cloudTrailSync?: CloudTrailSync; __cloudTrailSyncStarting?: Promise<CloudTrailSync> };

export function cloudTrailSync(): CloudTrailSync | null {
  return g.__cloudTrailSync ?? null;
}

/** Starts the background sync of every CloudTrail source (once per process): a run now, then every interval. */
export async function startCloudTrailSync(): Promise<CloudTrailSync> {
  if (g.__cloudTrailSync) return g.__cloudTrailSync;
  // Two callers at once (the index opens asynchronously) get the one sync.
  g.__cloudTrailSyncStarting ??= createAndStart().finally(() => {
    g.__cloudTrailSyncStarting = undefined;
  });
  return g.__cloudTrailSyncStarting;
}

async function createAndStart(): Promise<CloudTrailSync> {
  const env = readEnv();
  const { sources: configs, stores } = loadCloudTrailSources(env);
  const index = await auditEventIndex();
  const lookups = createLookupSources(
    configs.filter((c): c is LookupEventsSourceConfig => c.kind === 'lookup-events'),
    { retentionDays: env.AUDIT_RETENTION_DAYS },
  );
  const buckets = configs.filter((c): c is S3SourceConfig => c.kind === 'cloudtrail-s3').map((c) => new S3CloudTrailSource(c));
  const sources: CloudTrailSource[] = [...lookups, ...buckets];
  const sync = new CloudTrailSync(index, sources, { intervalMs: env.CLOUDTRAIL_SYNC_INTERVAL_MINUTES * 60_000, stores });
  g.__cloudTrailSync = sync;
  if (sources.length > 0) {
    logger.info({ sources: sync.sourceIds, everyMinutes: env.CLOUDTRAIL_SYNC_INTERVAL_MINUTES }, 'cloudtrail sync started');
    sync.start();
  }
  return sync;
}

/** Stops the sync after the pages in hand are written (tests, shutdown). */
export async function stopCloudTrailSync(): Promise<void> {
  const sync = g.__cloudTrailSync;
  g.__cloudTrailSync = undefined;
  await sync?.stop();
}
