import { closeAlertsDb } from '@/lib/alerts/alerts';
import type { ConditionSubject } from '@/lib/alerts/messages';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { closeFindingsDb } from '@/lib/findings/findings';
import { inventoryDb } from '@/lib/inventory/inventory';
import type { InventoryRecord } from '@/lib/inventory/records';
import { openInventoryDashboard } from '../../support/inventory-dashboard';
import { inventoryRecord, walkInto } from '../../support/inventory-records';
import type { DatabaseKind } from '../../support/databases';
import { makeTempDir } from '../../support/temp-dir';

// The conditions' suites: a dashboard on a temp DATA_DIR (or a PostgreSQL database of its own)
// with two AWS stores whose inventories the tests fill as walks would, and whatever else a
// condition reads (CloudTrail index, findings, audit log, alerts store) opened on the same place.

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const DAY = 86_400_000;

export const CONFIG = `stores:
  - { id: prod-params, kind: ssm, region: ${REGION} }
  - { id: prod-secrets, kind: secretsmanager, region: ${REGION} }
`;

export interface ConditionsDashboard {
  dir: string;
  close(): Promise<void>;
}

export async function openConditionsDashboard(prefix: string, database: DatabaseKind = 'sqlite', config = CONFIG): Promise<ConditionsDashboard> {
  const temp = makeTempDir(prefix);
  delete process.env.NEXTAUTH_URL;
  const dashboard = await openInventoryDashboard(temp.dir, config, database);
  return {
    dir: temp.dir,
    async close() {
      await closeAlertsDb();
      await closeFindingsDb();
      await (await auditEventIndex()).close();
      await closeKeyrings();
      await dashboard.close();
      temp.cleanup();
    },
  };
}

/** An item changed `daysAgo` days before `now` (a second version: rotated once, so never "never rotated"). */
export function aged(name: string, now: Date, daysAgo: number, over: Partial<InventoryRecord> = {}): InventoryRecord {
  return inventoryRecord(name, { lastChangedAt: new Date(now.getTime() - daysAgo * DAY).toISOString(), currentVersion: '2', ...over });
}

export async function walk(storeId: string, records: InventoryRecord[]): Promise<void> {
  await walkInto(await inventoryDb(), storeId, records);
}

/** "store name [principal]" of each subject, sorted: what a test compares. */
export function keys(subjects: readonly ConditionSubject[]): string[] {
  return subjects.map((s) => `${s.storeId} ${s.name}${s.principal ? ` ${s.principal}` : ''}`).sort();
}

/**
 * The account's LookupEvents source as it is once every lookup has walked its 90 days: with it the
 * index's history counts as complete (lib/cloudtrail/history-complete.ts), as in any deployment past
 * its first minutes. Its events come with the trail's in these tests.
 */
export async function lookupsWalked(now: Date, locators: Parameters<Awaited<ReturnType<typeof auditEventIndex>>['ingest']>[5]): Promise<void> {
  const lookup = { walk: null, resumeFrom: new Date(now.getTime() - 5 * 60_000).toISOString(), newest: now.toISOString() };
  const cursor = { version: 1, lookups: { 'ssm.amazonaws.com': lookup, 'secretsmanager.amazonaws.com': lookup, 'kms.amazonaws.com': lookup } };
  await (await auditEventIndex()).ingest('lookups', 'lookup-events', { account: ACCOUNT, region: REGION }, [], { cursor, lastSuccessAt: now.toISOString() }, locators);
}
