import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { closeFindingsDb, evaluateFindings, findingsDb, type StoreOutcome } from '@/lib/findings/findings';
import type { StoredFinding } from '@/lib/findings/findings-db';
import { analysePolicy } from '@/lib/findings/resource-policy';
import { FINDING_STATUSES } from '@/lib/findings/types';
import { closeInventoryDb, inventoryDb } from '@/lib/inventory/inventory';
import { toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';
import { seededRandom } from '@/lib/random/seeded-random';
import { ACCOUNT, configYaml, EVENTS_FROM, EventGenerator, generateInventory, LOCATORS, parameterRecord, PARAMS, REGION, SECRETS, secretRecord, type BenchData } from '@/scripts/bench/findings-bench-data';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// The logger reads LOG_LEVEL when it is first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

// An incremental evaluation (after a sync, only the items that moved) leaves the findings store
// exactly as a forced full evaluation of the same data would: the benchmark's data at a small size
// (both stores, reads over 180 days), then rounds of random changes (items rotated, retagged through
// the walk and through Parameter Store's tag fetch, deleted, added, restored; reads of single items,
// of folders by path and recursively, by new principals; resource policies read), each evaluated
// incrementally and compared field by field with a forced full pass (which must then change nothing).
// A full pass is kept when the clock hour changes, after a restart and after another writer's run.

const ITEMS = 600;
const DAY = 86_400_000;
/** Whole hours, so the rounds below stay inside one clock hour. */
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000 + 60_000;
const STORES = [PARAMS, SECRETS];
const PUBLIC_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
const OWN_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });

/** One walk of both stores as the sync writes it, then Parameter Store's tags as its tag fetch does (for `tagNames`, or all). */
async function walk(data: BenchData, tagNames?: Set<string>): Promise<void> {
  const db = await inventoryDb();
  for (const store of data.stores) {
    const ssm = store.kind === 'ssm';
    await db.beginWalk(store.storeId);
    await db.stage(store.records.map((record) => toInventoryRow(store.storeId, ssm ? { ...record, tags: {} } : record, !ssm)));
    await db.applyWalk(store.storeId, { items: store.records.length, pages: 1, durationMs: 0, calls: {}, throttled: 0, unreadableItems: 0 }, ssm);
  }
  for (const record of data.stores[0].records) if (!tagNames || tagNames.has(record.name)) await db.setTags(PARAMS, record.name, record.tags);
}

let sequence = 0;
async function ingest(records: CloudTrailRecord[]): Promise<void> {
  const index = await auditEventIndex();
  sequence++;
  await index.ingest('test-trail', 'cloudtrail-s3', { account: ACCOUNT, region: REGION }, records, { cursor: { sequence }, lastEventTime: records.at(-1)!.eventTime!, lastSuccessAt: new Date(NOW).toISOString() }, LOCATORS);
}

function readEvent(id: string, at: number, principal: string, read: { name: string; secret?: boolean; path?: string; recursive?: boolean }): CloudTrailRecord {
  const identity = { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${principal}/s`, accountId: ACCOUNT, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/${principal}` } } };
  const base = { eventVersion: '1.09', eventID: id, eventTime: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'), awsRegion: REGION, recipientAccountId: ACCOUNT, userIdentity: identity, requestID: `req-${id}`, eventType: 'AwsApiCall', readOnly: true, managementEvent: true, responseElements: null };
  if (read.path) return { ...base, eventSource: 'ssm.amazonaws.com', eventName: 'GetParametersByPath', requestParameters: { path: read.path, recursive: read.recursive ?? false, withDecryption: true } } as CloudTrailRecord;
  if (read.secret) return { ...base, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: read.name.slice(1) } } as CloudTrailRecord;
  return { ...base, eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: read.name, withDecryption: true } } as CloudTrailRecord;
}

/** Every finding of both stores, every status, every field, in a stable order. */
async function everything(now: Date): Promise<StoredFinding[]> {
  const db = await findingsDb();
  return db.page({ scopes: STORES.map((storeId) => ({ storeId, namePattern: null })), statuses: [...FINDING_STATUSES], now }, 1_000_000, null);
}

describe.each(DATABASES)('incremental findings evaluation (%s)', (database) => {
  const temp = makeTempDir('findings-incremental-');
  let cleanupDatabase: (() => Promise<void>) | undefined;
  let data: BenchData;
  const random = seededRandom(database === 'sqlite' ? 11 : 12);
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const removed: { store: 0 | 1; record: InventoryRecord }[] = [];
  let added = 0;

  beforeAll(async () => {
    const configFile = path.join(temp.dir, 'dashboard.yaml');
    writeFileSync(configFile, configYaml());
    Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), CONFIG_FILE: configFile, DEMO_DATA: '0', SYNC_INTERVAL_MINUTES: '1440', AUDIT_RETENTION_DAYS: '400' });
    delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
    cleanupDatabase = (await useDatabase(database)).cleanup;
    data = generateInventory(ITEMS, NOW);
    await walk(data);
    const gen = new EventGenerator(data);
    const total = 12_000;
    for (let k = 0; k < total; k += 4000) await ingest(gen.batch('base', k, k + 4000, total, EVENTS_FROM(NOW), NOW - 2 * 3_600_000));
    const first = await evaluateFindings({ now: new Date(NOW) });
    for (const id of STORES) expect(first.get(id)?.evaluated, id).toBe(first.get(id)?.items);
  }, 120_000);

  afterAll(async () => {
    await closeFindingsDb();
    await (await auditEventIndex()).close();
    await closeInventoryDb();
    await cleanupDatabase?.();
    temp.cleanup();
  });

  /** A sync's worth of random changes to both stores, walked, and new reads ingested. */
  async function changeAndSync(round: number, at: number): Promise<void> {
    const tagNames = new Set<string>();
    for (const s of [0, 1] as const) {
      const store = data.stores[s];
      const records = store.records;
      for (let k = 0; k < 6; k++) {
        const i = Math.floor(random() * records.length);
        const r = records[i]!;
        const roll = random();
        if (roll < 0.3) {
          // Rotated now, or its value left as it was for a year.
          const changed = random() < 0.5 ? at - 60_000 : at - 400 * DAY;
          records[i] = { ...r, lastChangedAt: new Date(changed).toISOString(), currentVersion: s === 0 ? String(Number(r.currentVersion) + 1) : `${r.currentVersion}-r${round}` };
        } else if (roll < 0.55) {
          // An owner tag given or taken away.
          const { owner: _owner, team: _team, ...rest } = r.tags;
          records[i] = { ...r, tags: 'owner' in r.tags || 'team' in r.tags ? rest : { ...r.tags, owner: `person-${round}` } };
          if (s === 0) tagNames.add(r.name);
        } else if (roll < 0.7) {
          // Its key: the AWS managed one, or a customer key.
          records[i] = { ...r, kmsKeyId: r.kmsKeyId === null ? `arn:aws:kms:${REGION}:${ACCOUNT}:key/0000-${round}` : null };
        } else {
          removed.push({ store: s, record: r });
          records.splice(i, 1);
        }
      }
      // New items, and one deleted earlier restored (its old findings raised again).
      const fresh = s === 0 ? parameterRecord(random, 100_000 + added, at, 'never') : secretRecord(random, 100_000 + added, at, 'never');
      added++;
      records.push(fresh);
      if (s === 0) tagNames.add(fresh.name);
      const back = removed.findIndex((x) => x.store === s);
      if (back >= 0 && random() < 0.7) {
        const [restored] = removed.splice(back, 1);
        records.push(restored!.record);
        if (s === 0) tagNames.add(restored!.record.name);
      }
    }
    await walk(data, tagNames);
    // Reads: single items (some never read before), a folder by path, a folder recursively, a new reader.
    const params = data.stores[0].records;
    const secrets = data.stores[1].records;
    const events: CloudTrailRecord[] = [];
    const id = (k: number) => `r${round}-${k}`;
    for (let k = 0; k < 5; k++) events.push(readEvent(id(k), at - 600_000 + k, `app-${k}`, { name: pick(params).name }));
    for (let k = 5; k < 10; k++) events.push(readEvent(id(k), at - 600_000 + k, `app-${k}`, { name: pick(secrets).name, secret: true }));
    events.push(readEvent(id(10), at - 500_000, 'ops-folder', { name: '', path: pick(params).folder.replace(/\/$/, '') }));
    events.push(readEvent(id(11), at - 400_000, 'ops-tree', { name: '', path: `/team${String(round * 7 % 40).padStart(2, '0')}`, recursive: true }));
    events.push(readEvent(id(12), at - 300_000, `newcomer-${round}`, { name: pick(secrets).name, secret: true }));
    await ingest(events);
    // The background reader read some secrets' resource policies.
    const db = await findingsDb();
    for (let k = 0; k < 3; k++) await db.putPolicyReading(SECRETS, pick(secrets).name, analysePolicy(random() < 0.5 ? PUBLIC_POLICY : OWN_POLICY, ACCOUNT), new Date(at - 100_000 + round * 1000 + k).toISOString());
  }

  /** A forced full evaluation at `at` must find nothing to change, and leave every finding as it was. */
  async function expectFullChangesNothing(at: Date): Promise<void> {
    const incremental = await everything(at);
    const full = await evaluateFindings({ force: true, now: at });
    for (const id of STORES) expect({ id, ...full.get(id) }).toMatchObject({ id, raised: 0, resolved: 0, updated: 0 });
    expect(await everything(at)).toEqual(incremental);
  }

  it('after each round of changes evaluates only the items that moved, and stores what a full evaluation would', async () => {
    let raisedOrResolved = 0;
    for (let round = 1; round <= 4; round++) {
      const at = new Date(NOW + round * 60_000);
      await changeAndSync(round, at.getTime());
      const outcome = await evaluateFindings({ now: at });
      for (const id of STORES) {
        const store: StoreOutcome | undefined = outcome.get(id);
        expect(store, id).toBeDefined();
        // Incremental: some items, far fewer than all.
        expect(store!.evaluated, id).toBeGreaterThan(0);
        expect(store!.evaluated, id).toBeLessThan(store!.items / 4);
        raisedOrResolved += store!.raised + store!.resolved + store!.updated;
      }
      await expectFullChangesNothing(at);
    }
    // The rounds changed findings (else equality proves little).
    expect(raisedOrResolved).toBeGreaterThan(10);
  }, 120_000);

  it('evaluates every item once the clock hour changes, and after a restart', async () => {
    const nextHour = new Date(NOW + 3_600_000);
    await changeAndSync(10, nextHour.getTime());
    const hourly = await evaluateFindings({ now: nextHour });
    for (const id of STORES) expect(hourly.get(id)?.evaluated, id).toBe(hourly.get(id)?.items);
    await expectFullChangesNothing(nextHour);

    const later = new Date(nextHour.getTime() + 60_000);
    await changeAndSync(11, later.getTime());
    const incremental = await evaluateFindings({ now: later });
    for (const id of STORES) expect(incremental.get(id)!.evaluated, id).toBeLessThan(incremental.get(id)!.items / 4);

    // A restart forgets what was evaluated: the next pass is full.
    await closeFindingsDb();
    const afterRestart = new Date(later.getTime() + 60_000);
    await changeAndSync(12, afterRestart.getTime());
    const restarted = await evaluateFindings({ now: afterRestart });
    for (const id of STORES) expect(restarted.get(id)?.evaluated, id).toBe(restarted.get(id)?.items);
    await expectFullChangesNothing(afterRestart);
  }, 120_000);

  it("evaluates every item of a store whose last run is another writer's (another replica evaluated it)", async () => {
    const at = new Date(NOW + 3_600_000 + 3 * 60_000);
    // Another replica's run of the parameters that raised nothing: every open finding resolved.
    await (await findingsDb()).applyEvaluation({ storeId: PARAMS, evaluatedAt: new Date(at.getTime() - 1000).toISOString(), inputs: 'another replica', items: 0, durationMs: 0, raised: [] });
    await changeAndSync(13, at.getTime());
    const outcome = await evaluateFindings({ now: at });
    expect(outcome.get(PARAMS)?.evaluated).toBe(outcome.get(PARAMS)?.items);
    expect(outcome.get(PARAMS)!.raised).toBeGreaterThan(100);
    // The other store's last run is still this process's own: incremental.
    expect(outcome.get(SECRETS)!.evaluated).toBeLessThan(outcome.get(SECRETS)!.items / 4);
    await expectFullChangesNothing(at);
  }, 120_000);
});
