import 'server-only';
import { NEW_READER_LOOKBACK_DAYS, type EventQueries, type StoreRead, type VersionedRead } from '@/lib/cloudtrail/event-queries';
import type { InventoryIndex } from '@/lib/inventory/inventory-index';
import type { StoreKind } from '@/lib/stores/types';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';
import { accountOf, evaluateItem, ownerOf, type FindingSettings, type ItemConsumers, type ItemReads, type ReadCoverage } from './evaluate';
import type { RaisedRow, StoreEvaluation } from './findings-db';
import type { ReadsMoved, StoreReadCache } from './read-cache';
import type { PolicyReading } from './resource-policy';

// One store's evaluation: every item of its inventory with what the CloudTrail index says of its
// reads (one grouped pass over the store's events, folder reads spread to the items below).

const DAY_MS = 86_400_000;

export interface StoreToEvaluate {
  id: string;
  kind: StoreKind;
}

/** What the consumer scan knows of a store's items (lib/findings/consumers-db.ts forEvaluation). */
export interface StoreConsumers {
  /** The workloads naming each item, by item name. */
  byItem: Map<string, ItemConsumers['consumers']>;
  /** Secrets scheduled for deletion that workloads still name (the inventory leaves them out). */
  deleted: Map<string, { deletedAt: string; arn: string | null; consumers: ItemConsumers['consumers'] }>;
  /** The scan of the store's own connection read every workload of both services. */
  scanComplete: boolean;
  scannedAt: string | null;
}

/** Reads by name, by folder (any) and by folder read recursively, to gather one item's. */
export class ReadsByName {
  private readonly direct = new Map<string, StoreRead[]>();
  private readonly recursive = new Map<string, StoreRead[]>();

  constructor(reads: StoreRead[]) {
    for (const read of reads) {
      push(this.direct, read.itemName, read);
      if (read.recursive) push(this.recursive, read.itemName, read);
    }
  }

  of(name: string): StoreRead[] {
    const folder = folderOf(name);
    const found = [...(this.direct.get(name) ?? []), ...(this.direct.get(folder) ?? [])];
    for (const above of ancestorsOf(folder)) if (above !== folder) found.push(...(this.recursive.get(above) ?? []));
    return found;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Versioned reads by item name (a handful per store: most reads ask for the current value). */
function groupByItem(reads: VersionedRead[]): Map<string, VersionedRead[]> {
  const byItem = new Map<string, VersionedRead[]>();
  for (const read of reads) push(byItem, read.itemName, read);
  return byItem;
}

/** What the item's reads amount to: the last one, and the principals first seen inside the new-reader window. */
export function summariseReads(reads: StoreRead[], windowStart: number): ItemReads {
  let lastReadAt: string | null = null;
  const first = new Map<string, string>();
  for (const r of reads) {
    if (lastReadAt === null || r.lastAt > lastReadAt) lastReadAt = r.lastAt;
    if (r.principal === null) continue;
    const seen = first.get(r.principal);
    if (seen === undefined || r.firstAt < seen) first.set(r.principal, r.firstAt);
  }
  const newReaders = [...first]
    .filter(([, at]) => Date.parse(at) >= windowStart)
    .map(([principal, firstReadAt]) => ({ principal, firstReadAt }))
    .sort((a, b) => a.firstReadAt.localeCompare(b.firstReadAt) || a.principal.localeCompare(b.principal));
  return { lastReadAt, newReaders };
}

export async function evaluateStore(
  store: StoreToEvaluate,
  inputs: {
    index: InventoryIndex;
    events: EventQueries | null;
    settings: FindingSettings;
    now: Date;
    signature: string;
    /** Reads kept between evaluations (the background's); without it the store's reads are read whole. */
    readCache?: StoreReadCache;
    /** Secrets Manager: each secret's resource policy as last read in the background. */
    policies?: Map<string, PolicyReading & { readAt: string }>;
    /** AWS stores whose connection the consumer scan reads. */
    consumers?: StoreConsumers;
    /**
     * The CloudTrail sources have every event up to the new-reader window (lib/cloudtrail/history-complete.ts);
     * false while they first walk their history, when regular readers would look new. Default true.
     */
    historyComplete?: boolean;
    /**
     * An incremental pass (lib/findings/findings.ts): given what the store's reads moved (null: read
     * whole), the items to evaluate, or null for every item. Only those items' findings are answered.
     */
    select?: (reads: { coverage: string | null; moved: ReadsMoved | null }) => Promise<ReadonlySet<string> | null>;
  },
): Promise<StoreEvaluation> {
  const started = performance.now();
  const { settings, now } = inputs;
  const t = now.getTime();
  const windowStart = t - settings.newReaderDays * DAY_MS;
  // Reads are gathered far enough back for both "not read for N days" and the new-reader look-back.
  const from = new Date(Math.min(t - settings.unusedDays * DAY_MS, windowStart - NEW_READER_LOOKBACK_DAYS * DAY_MS)).toISOString();
  let coverage: ReadCoverage | null = null;
  let byName: ReadsByName | null = null;
  let newReadersKnowable = false;
  let versioned: Map<string, VersionedRead[]> | null = null;
  // Without reads to consult (a local store, no index) none moved.
  let moved: ReadsMoved | null = { names: new Set(), recursive: new Set() };
  if (inputs.events && store.kind !== 'local') {
    const known = inputs.readCache
      ? await inputs.readCache.readsOf(inputs.events, store.id, from, now)
      : { coverage: await inputs.events.storeCoverage(store.id), reads: null, moved: null };
    moved = known.moved;
    if (known.coverage !== null) {
      coverage = { since: known.coverage };
      byName = new ReadsByName(known.reads ?? (await inputs.events.readsOfStore(store.id, from)));
      versioned = groupByItem(await inputs.events.versionedReadsOfStore(store.id, from));
      // A reader is new only when the index reaches back the whole look-back before the window.
      newReadersKnowable = Date.parse(known.coverage) <= windowStart - NEW_READER_LOOKBACK_DAYS * DAY_MS && (inputs.historyComplete ?? true);
    }
  }
  const raised: RaisedRow[] = [];
  let items = 0;
  const scan = inputs.consumers;
  const consumersOf = (name: string): ItemConsumers | null =>
    scan ? { consumers: scan.byItem.get(name) ?? [], scanComplete: scan.scanComplete, scannedAt: scan.scannedAt } : null;
  const inventoried = new Set<string>();
  const only = inputs.select ? await inputs.select({ coverage: coverage?.since ?? null, moved }) : null;
  for await (const batch of only ? inputs.index.itemsNamed(store.id, [...only], now) : inputs.index.eachItem(store.id, now)) {
    for (const item of batch) {
      items++;
      if (scan?.deleted.has(item.name)) inventoried.add(item.name);
      let reads: ItemReads | null = null;
      if (byName) {
        reads = summariseReads(byName.of(item.name), windowStart);
        if (!newReadersKnowable) reads.newReaders = [];
        reads.versioned = versioned?.get(item.name) ?? [];
      }
      const found = evaluateItem(
        {
          storeKind: store.kind,
          name: item.name,
          kind: item.kind,
          tags: item.tags,
          tagsKnown: store.kind !== 'ssm' || item.tagsReadAt !== null,
          kmsKeyId: item.kmsKeyId,
          lastChangedAt: item.lastChangedAt,
          currentVersion: item.version,
          labels: item.labels,
          extra: item.extra,
          freshness: item.freshness,
        },
        reads,
        coverage,
        settings,
        now,
        inputs.policies?.get(item.name) ?? null,
        consumersOf(item.name),
      );
      if (found.length === 0) continue;
      const common = { itemName: item.name, kind: item.kind, arn: item.extra.arn ?? null, account: accountOf(item.extra), owner: ownerOf(item.tags) };
      for (const f of found) raised.push({ ...common, control: f.control, evidence: f.evidence });
    }
  }
  // Secrets scheduled for deletion are not in the inventory: each one a workload still names is asked on its own.
  for (const [name, deleted] of scan?.deleted ?? []) {
    if (inventoried.has(name) || (only && !only.has(name))) continue;
    const extra = deleted.arn ? { arn: deleted.arn } : {};
    const found = evaluateItem(
      { storeKind: store.kind, name, kind: 'secret', tags: {}, kmsKeyId: null, lastChangedAt: deleted.deletedAt, extra, freshness: { status: 'fresh', reason: '', dueAt: null } },
      null,
      null,
      settings,
      now,
      null,
      { consumers: deleted.consumers, scanComplete: scan!.scanComplete, scannedAt: scan!.scannedAt, deletedAt: deleted.deletedAt },
    );
    for (const f of found) raised.push({ itemName: name, kind: 'secret', arn: deleted.arn, account: accountOf(extra), owner: null, control: f.control, evidence: f.evidence });
  }
  return { storeId: store.id, evaluatedAt: now.toISOString(), inputs: inputs.signature, items, durationMs: performance.now() - started, raised, ...(only ? { only: [...only] } : {}) };
}
