import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import type { CloudTrailRecord, SourceCursor } from '@/lib/cloudtrail/types';
import { closeFindingsDb, evaluateFindings, findingsDb } from '@/lib/findings/findings';
import { closeInventoryDb, inventoryDb } from '@/lib/inventory/inventory';
import { toInventoryRow } from '@/lib/inventory/records';
import { ACCOUNT, configYaml, generateInventory, LOCATORS, PARAMS, REGION, SECRETS, type BenchData } from '@/scripts/bench/findings-bench-data';
import { useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// The logger reads LOG_LEVEL when it is first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

// While CloudTrail's history is still coming in (LookupEvents walks newest first, so the recent days
// are indexed before the older ones), a regular reader's recent reads are in the index and its
// earlier ones are not: it would look new. No new-reader finding is raised until the history is
// complete; then the pass evaluates every item again and raises only the principal that is new.

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000 + 60_000;
const REGULAR = 'payments-api';
const NEWCOMER = 'data-platform-etl';
const walkOf = (resumeFrom: string | null) => ({ walk: resumeFrom ? null : { start: new Date(NOW - 90 * DAY).toISOString(), end: new Date(NOW).toISOString(), nextToken: 'p', newest: new Date(NOW).toISOString(), oldest: new Date(NOW - 3 * DAY).toISOString() }, resumeFrom, newest: new Date(NOW).toISOString() });
const lookupCursor = (walked: boolean): SourceCursor => {
  const lookup = walkOf(walked ? new Date(NOW - 5 * 60_000).toISOString() : null);
  return { version: 1, lookups: { 'ssm.amazonaws.com': lookup, 'secretsmanager.amazonaws.com': lookup, 'kms.amazonaws.com': lookup } };
};

let n = 0;
function read(principal: string, name: string, at: number): CloudTrailRecord {
  n++;
  return {
    eventVersion: '1.09',
    eventID: `history-${n}`,
    eventTime: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'ssm.amazonaws.com',
    eventName: 'GetParameter',
    awsRegion: REGION,
    recipientAccountId: ACCOUNT,
    readOnly: true,
    userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${principal}/s`, accountId: ACCOUNT, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/${principal}` } } },
    requestParameters: { name, withDecryption: true },
    responseElements: null,
  };
}

describe('new readers while CloudTrail history is still coming in', () => {
  const temp = makeTempDir('findings-history-');
  let cleanupDatabase: (() => Promise<void>) | undefined;
  let data: BenchData;
  let regularItem: string;
  let newcomerItem: string;

  const ingest = async (sourceId: string, kind: 'lookup-events' | 'cloudtrail-s3', records: CloudTrailRecord[], cursor: SourceCursor) =>
    (await auditEventIndex()).ingest(sourceId, kind, { account: ACCOUNT, region: REGION }, records, { cursor, lastEventTime: records.at(-1)!.eventTime!, lastSuccessAt: new Date(NOW).toISOString() }, LOCATORS);
  const newReaders = async () =>
    (await (await findingsDb()).page({ scopes: [PARAMS, SECRETS].map((storeId) => ({ storeId, namePattern: null })), controls: ['new-reader'], statuses: ['open'], now: new Date(NOW) }, 1000, null)).map((f) => ({
      item: f.itemName,
      principals: f.evidence.principals!.map((p) => p.principal),
    }));

  beforeAll(async () => {
    const configFile = path.join(temp.dir, 'dashboard.yaml');
    writeFileSync(configFile, configYaml());
    Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), CONFIG_FILE: configFile, DEMO_DATA: '0', SYNC_INTERVAL_MINUTES: '1440', AUDIT_RETENTION_DAYS: '400' });
    delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
    cleanupDatabase = (await useDatabase('sqlite')).cleanup;
    data = generateInventory(60, NOW);
    const db = await inventoryDb();
    for (const store of data.stores) {
      await db.beginWalk(store.storeId);
      await db.stage(store.records.map((record) => toInventoryRow(store.storeId, record)));
      await db.applyWalk(store.storeId, { items: store.records.length, pages: 1, durationMs: 0, calls: {}, throttled: 0, unreadableItems: 0 }, true);
    }
    [regularItem, newcomerItem] = data.stores[0].records.map((r) => r.name) as [string, string];
    // The trail bucket's first file (read oldest first): enough for the index to reach back 120 days.
    await ingest('trail', 'cloudtrail-s3', [read('someone-else', regularItem, NOW - 120 * DAY)], { version: 1, folders: {} });
  }, 60_000);

  afterAll(async () => {
    await closeFindingsDb();
    await (await auditEventIndex()).close();
    await closeInventoryDb();
    await cleanupDatabase?.();
    temp.cleanup();
  });

  it('raises none while LookupEvents has walked only the last days, though both readers look new', async () => {
    const recent = [1, 2, 3].map((d) => read(REGULAR, regularItem, NOW - d * DAY)).concat([1, 2].map((d) => read(NEWCOMER, newcomerItem, NOW - d * DAY)));
    await ingest('lookup', 'lookup-events', recent.sort((a, b) => a.eventTime!.localeCompare(b.eventTime!)), lookupCursor(false));
    await evaluateFindings({ now: new Date(NOW) });
    expect(await newReaders()).toEqual([]);
  });

  it('raises only the newcomer once the walk has reached back 90 days, the regular reader being found reading months before', async () => {
    const older = Array.from({ length: 90 }, (_, i) => read(REGULAR, regularItem, NOW - (95 - i) * DAY));
    await ingest('lookup', 'lookup-events', older, lookupCursor(true));
    await evaluateFindings({ now: new Date(NOW + 60_000) });
    expect(await newReaders()).toEqual([{ item: newcomerItem, principals: [`arn:aws:iam::${ACCOUNT}:role/${NEWCOMER}`] }]);
  });
});
