import 'server-only';
import { readEnv } from '@/lib/config/env';
import { runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { logger } from '@/lib/logger';
import { auditEventIndex } from './audit-events';
import { createLookupSources } from './lookup-events-source';
import { S3CloudTrailSource } from './s3-source';
import { loadCloudTrailSources, type LookupEventsSourceConfig, type S3SourceConfig } from './sources-config';
import { CloudTrailSync, type CloudTrailSource } from './sync';
import { VaultFileSource } from './vault-file-source';

// The process-wide CloudTrail sync (like lib/inventory/inventory.ts). Next.js bundles server code
// more than once, so it lives on globalThis: every copy sees one sync. With several replicas only
// the one holding the 'cloudtrail-sync' lease runs it; another takes over when that one dies.

const g = globalThis as unknown as { __cloudTrailSync?: CloudTrailSync; __cloudTrailLeader?: LeaderHandle };

export function cloudTrailSync(): CloudTrailSync | null {
  return g.__cloudTrailSync ?? null;
}

/** Starts leading the CloudTrail sync when this replica can (once per process): a run at once, then every interval. */
export async function startCloudTrailSync(): Promise<void> {
  if (g.__cloudTrailLeader) return;
  const env = readEnv();
  const { sources: configs, vaultSources } = loadCloudTrailSources(env);
  if (configs.length === 0 && vaultSources.length === 0) return;
  await auditEventIndex(); // the index and its migrations are ready before anyone leads
  g.__cloudTrailLeader = runWhileLeader('cloudtrail-sync', {
    // A new sync each time this replica leads: stop() is final.
    onLead: async () => {
      g.__cloudTrailSync = await createAndStart();
    },
    onLoseLead: stopRunningSync,
  });
}

async function createAndStart(): Promise<CloudTrailSync> {
  const env = readEnv();
  const { sources: configs, vaultSources, stores } = loadCloudTrailSources(env);
  const index = await auditEventIndex();
  const lookups = createLookupSources(
    configs.filter((c): c is LookupEventsSourceConfig => c.kind === 'lookup-events'),
    { retentionDays: env.AUDIT_RETENTION_DAYS },
  );
  const buckets = configs.filter((c): c is S3SourceConfig => c.kind === 'cloudtrail-s3').map((c) => new S3CloudTrailSource(c));
  const vaultFiles = vaultSources.map((c) => new VaultFileSource(c));
  const sources: CloudTrailSource[] = [...lookups, ...buckets, ...vaultFiles];
  const sync = new CloudTrailSync(index, sources, { intervalMs: env.CLOUDTRAIL_SYNC_INTERVAL_MINUTES * 60_000, stores });
  logger.info({ sources: sync.sourceIds, everyMinutes: env.CLOUDTRAIL_SYNC_INTERVAL_MINUTES }, 'cloudtrail sync started');
  sync.start();
  return sync;
}

async function stopRunningSync(): Promise<void> {
  const sync = g.__cloudTrailSync;
  g.__cloudTrailSync = undefined;
  await sync?.stop();
}

/** Stops the sync after the pages in hand are written and hands the lease on (tests, shutdown). */
export async function stopCloudTrailSync(): Promise<void> {
  const leader = g.__cloudTrailLeader;
  g.__cloudTrailLeader = undefined;
  if (leader) await leader.stop();
  else await stopRunningSync();
}
