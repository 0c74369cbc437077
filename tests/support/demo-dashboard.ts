import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { S3CloudTrailSource } from '@/lib/cloudtrail/s3-source';
import { loadCloudTrailSources, type S3SourceConfig } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync, type SourceRunResult } from '@/lib/cloudtrail/sync';
import { readEnv } from '@/lib/config/env';
import { closeFindingsDb } from '@/lib/findings/findings';
import { inventoryDb } from '@/lib/inventory/inventory';
import { InventorySync } from '@/lib/inventory/sync';
import { isInventoryWalkable } from '@/lib/stores/inventory-walk';
import { getStores } from '@/lib/stores/registry';
import { credentialsText, mergeDemoConfig, profileOf, readDemoAccounts } from '../../scripts/demo-aws.mjs';
import type { DemoAccount } from '@/simulator/demo/organisation';
import { startSimulatedOrganisation, type SimulatedOrganisation, type SimulatedOrganisationOptions } from '@/simulator/simulated-organisation';
import type { DatabaseKind } from './databases';
import { openInventoryDashboard } from './inventory-dashboard';

// The demo organisation (or a variant of it) served in-process and a dashboard on it configured
// exactly as scripts/demo-aws.mjs configures one (its credentials file, profiles and endpoint), with
// the sync's rates raised for a test: every AWS store walked (Parameter Store's tags too) and the
// trail buckets indexed. What the findings and consumers suites build on.

export const DEMO_STORE_IDS = ['sim-prod-ssm', 'sim-prod-secrets', 'sim-staging-ssm', 'sim-staging-secrets'];
const DAY = 86_400_000;

export interface DemoDashboard {
  org: SimulatedOrganisation;
  sync: InventorySync;
  /** What indexing the trail buckets did, per source. */
  trail: Map<string, SourceRunResult>;
  /** An SDK client configuration for one of the organisation's accounts (one attempt a call). */
  sdkConfig(alias: 'prod' | 'staging'): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
  /** Walks every AWS store again and waits for Parameter Store's tags too. */
  walkAll(): Promise<void>;
  /** Indexes what the trail buckets hold now (new log files since the last run). */
  indexTrail(): Promise<Map<string, SourceRunResult>>;
  close(): Promise<void>;
}

/** The trail's log files of the last `days` days (their keys hold their date), so a suite indexes fewer. */
export function recentTrail(account: DemoAccount, now: number, days: number): DemoAccount['trailObjects'] {
  const from = new Date(now - days * DAY).toISOString().slice(0, 10).replace(/-/g, '/');
  return account.trailObjects.filter((o) => /\/(\d{4}\/\d{2}\/\d{2})\/[^/]+$/.exec(o.key)![1]! >= from);
}

export async function openDemoDashboard(options: {
  dir: string;
  database: DatabaseKind;
  accounts: DemoAccount[];
  now: number;
  awsOptions?: SimulatedOrganisationOptions['awsOptions'];
  /** Changes the generated configuration before it is written (grants, say). */
  configure?: (config: Record<string, unknown>) => void;
}): Promise<DemoDashboard> {
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const { accounts } = options;
  // The walk's operations unthrottled (the sync's rates are raised too): AWS's own quotas make a walk of the demo take minutes.
  const awsOptions = { ...options.awsOptions, quotas: { 'ssm:DescribeParameters': null, 'ssm:ListTagsForResource': null, ...options.awsOptions?.quotas } };
  const org = await startSimulatedOrganisation({ accounts, latencyMs: 0, now: options.now, trailDeliveryMs: null, recordCalls: false, awsOptions });
  let dashboard: { close(): Promise<void> } | null = null;
  let sync: InventorySync | null = null;
  const close = async () => {
    await sync?.stop();
    await closeFindingsDb();
    const index = await auditEventIndex().catch(() => null);
    await dashboard?.close();
    await index?.close();
    delete (globalThis as { __auditEvents?: unknown }).__auditEvents;
    await org.close();
  };
  try {
    // The dashboard's configuration as scripts/demo-aws.mjs writes it, with the sync's rates raised for a test.
    const demo = readDemoAccounts();
    const credentialsFile = path.join(options.dir, 'credentials');
    writeFileSync(credentialsFile, credentialsText(demo), { mode: 0o600 });
    const merged = mergeDemoConfig({ userText: null, userPath: null, accounts: demo, endpoint: org.url, credentialsFile });
    expect(merged.storeIds).toEqual(DEMO_STORE_IDS);
    const config = parse(merged.text) as { stores: { id: string; profile?: string; rateLimits?: Record<string, number> }[] };
    for (const store of config.stores) if (store.rateLimits) store.rateLimits = { DescribeParameters: 1000, ListTagsForResource: 5000, ListSecrets: 1000 };
    expect(config.stores.filter((s) => s.profile).map((s) => s.profile)).toEqual(demo.flatMap((a) => [profileOf(a), profileOf(a)]));
    options.configure?.(config);
    dashboard = await openInventoryDashboard(options.dir, stringify(config), options.database);

    const stores = (await getStores()).filter(isInventoryWalkable);
    const rates = Object.fromEntries(stores.map((s) => [s.id, { DescribeParameters: 1000, ListTagsForResource: 5000, ListSecrets: 1000 }]));
    sync = new InventorySync(await inventoryDb(), stores, { intervalMs: 3_600_000, rates });
    const walking = sync;
    const walkAll = async () => {
      for (const id of DEMO_STORE_IDS) expect(walking.request(id)).not.toBe('unknown');
      await Promise.all(DEMO_STORE_IDS.map((id) => walking.idle(id)));
      for (;;) {
        if (DEMO_STORE_IDS.every((id) => !walking.progress(id)!.tags.running)) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      for (const id of DEMO_STORE_IDS) expect((await (await inventoryDb()).index.syncRecord(id))?.error_code ?? null, id).toBeNull();
    };
    await walkAll();

    const { sources, stores: locators } = loadCloudTrailSources(readEnv());
    const trails = sources.filter((s): s is S3SourceConfig => s.kind === 'cloudtrail-s3');
    expect(trails.map((s) => s.id).sort()).toEqual(['sim-prod-trail', 'sim-staging-trail']);
    const trailSync = new CloudTrailSync(await auditEventIndex(), trails.map((c) => new S3CloudTrailSource(c)), { intervalMs: 3_600_000, stores: locators });
    const indexTrail = () => trailSync.runOnce();
    const trail = await indexTrail();
    for (const [id, result] of trail) expect(result.error, id).toBeNull();

    return {
      org,
      sync,
      trail,
      sdkConfig: (alias) => {
        const a = accounts.find((x) => x.alias === alias)!;
        return { region: a.region, endpoint: org.url, credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey }, maxAttempts: 1 };
      },
      walkAll,
      indexTrail,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
