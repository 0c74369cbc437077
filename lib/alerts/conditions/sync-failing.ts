import 'server-only';
import path from 'node:path';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { loadCloudTrailSources } from '@/lib/cloudtrail/sources-config';
import type { StoreLocator } from '@/lib/cloudtrail/types';
import { readEnv } from '@/lib/config/env';
import { inventoryStatusOf } from '@/lib/inventory/store-status';
import { browseHref } from '@/lib/links';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, MINUTE_MS, selectsStore, storesOf, type Condition } from './common';

// sync-failing: a store whose inventory sync has failed without a success for longer than the
// rule's syncFailingMinutes (default 60), and a CloudTrail source whose pages have failed as long
// (it stands for the stores whose events it brings). Both record their last success and their
// latest failure (lib/data/inventory-status.ts, ct_sources): a failure after the last success
// means failing since that success. One that never succeeded is failing since this process first
// saw it fail (nothing records an earlier time), so it alerts once the minutes have passed here.

export const DEFAULT_SYNC_FAILING_MINUTES = 60;

const g = globalThis as unknown as { __alertsFailingSince?: Map<string, string> };

/** When this process first saw a never-synced thing failing (forgotten once it is not failing). */
function firstSeenFailing(key: string, failing: boolean, now: Date): string | null {
  const seen = (g.__alertsFailingSince ??= new Map());
  if (!failing) {
    seen.delete(key);
    return null;
  }
  if (!seen.has(key)) seen.set(key, now.toISOString());
  return seen.get(key)!;
}

/** The place the process's state lives (tests move DATA_DIR and DATABASE_URL). */
function place(): string {
  const env = readEnv();
  return env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
}

/** Whether the locator's store is where a source's events come from (a source without an account takes any; a Vault audit file's region is its store's id). */
export function sourceCoversStore(source: { kind: string; account: string | null; region: string }, store: StoreLocator): boolean {
  if (store.kind === 'vault' || source.kind === 'vault-file') return store.kind === 'vault' && source.kind === 'vault-file' && source.region === store.storeId;
  return source.region === store.region && (source.account === null || store.account === null || source.account === store.account);
}

export const syncFailingCondition: Condition = async (rule, { now }) => {
  const minutes = rule.syncFailingMinutes ?? DEFAULT_SYNC_FAILING_MINUTES;
  const limit = now.getTime() - minutes * MINUTE_MS;
  const where = place();
  const subjects: ConditionSubject[] = [];

  for (const store of await storesOf(rule)) {
    const status = await inventoryStatusOf(store);
    const error = status.error;
    const failing = error !== null && (status.syncedAt === null || error.at > status.syncedAt);
    const since = status.syncedAt ?? firstSeenFailing(`${where}:inventory:${store.id}`, failing, now);
    if (!failing || since === null || Date.parse(since) > limit) continue;
    subjects.push({
      storeId: store.id,
      name: store.id,
      url: absoluteUrl(browseHref(store.id, '/')),
      status: `inventory sync failing since ${since} (${error.code})`,
    });
  }

  const sources = await (await auditEventIndex()).listSourceStates();
  if (sources.length === 0) return subjects;
  let locators: StoreLocator[] = [];
  try {
    locators = loadCloudTrailSources().stores;
  } catch {
    // A configuration that no longer loads: the sources still count, under their own names.
  }
  for (const source of sources) {
    const failing = source.lastError !== null && (source.lastSuccessAt === null || source.lastError.at > source.lastSuccessAt);
    const since = source.lastSuccessAt ?? firstSeenFailing(`${where}:cloudtrail:${source.sourceId}`, failing, now);
    if (!failing || since === null || Date.parse(since) > limit) continue;
    // The first selected store whose events the source brings; a source bringing none of the rule's stores is not its concern.
    const stores = locators.filter((l) => sourceCoversStore(source, l)).map((l) => l.storeId).sort();
    const storeId = stores.find((id) => selectsStore(rule, id)) ?? (rule.selector?.stores ? null : source.sourceId);
    if (storeId === null) continue;
    subjects.push({
      storeId,
      name: `${source.kind === 'vault-file' ? 'Vault audit' : 'CloudTrail'} source ${source.sourceId}`,
      url: absoluteUrl('/audit'),
      status: `${source.kind === 'vault-file' ? 'Vault audit log' : 'CloudTrail'} sync failing since ${since}`,
    });
  }
  return subjects;
};
