import 'server-only';
import type { EventQueries, StoreRead } from '@/lib/cloudtrail/event-queries';

// Each store's reads as the findings need them (per name and principal: first and last read), kept
// between evaluations on the replica that evaluates: after a sync only the rows ingested since the
// last pass are read and merged (first = earliest, last = latest: merging a row twice changes
// nothing, so the passes overlap a little rather than miss a row a slower transaction committed
// late). Once a day, and after a restart, the whole window is read again, which also lets reads
// that have aged out of it go. Each answer says which names' reads moved since the previous one (an
// incremental evaluation re-evaluates only their items), or null when the window was read whole.

/** Rows re-read before the last one seen, against transactions that commit out of id order. */
const OVERLAP_IDS = 50_000;

interface StoreEntry {
  day: string;
  from: string;
  maxId: number;
  coverage: string | null;
  reads: Map<string, StoreRead>;
}

/** The names (items, or folders read by path) whose reads changed, and those of them read recursively. */
export interface ReadsMoved {
  names: Set<string>;
  recursive: Set<string>;
}

const keyOf = (r: StoreRead) => `${r.itemName}\n${r.recursive ? 1 : 0}\n${r.principal ?? ''}`;

export class StoreReadCache {
  private readonly stores = new Map<string, StoreEntry>();

  /** The store's reads since `from` and what the index covers; `now` decides when the whole window is read again. */
  async readsOf(events: EventQueries, storeId: string, from: string, now: Date): Promise<{ coverage: string | null; reads: StoreRead[]; moved: ReadsMoved | null }> {
    const day = now.toISOString().slice(0, 10);
    let entry = this.stores.get(storeId);
    let moved: ReadsMoved | null = null;
    if (!entry || entry.day !== day) {
      const [coverage, pass] = await Promise.all([events.storeCoverage(storeId), events.readsOfStoreAfter(storeId, from, 0)]);
      entry = { day, from, maxId: pass.maxId, coverage, reads: new Map(pass.reads.map((r) => [keyOf(r), r])) };
      this.stores.set(storeId, entry);
    } else {
      moved = { names: new Set(), recursive: new Set() };
      const pass = await events.readsOfStoreAfter(storeId, entry.from, Math.max(0, entry.maxId - OVERLAP_IDS));
      for (const read of pass.reads) {
        const key = keyOf(read);
        const known = entry.reads.get(key);
        const merged = known ? { ...known, firstAt: read.firstAt < known.firstAt ? read.firstAt : known.firstAt, lastAt: read.lastAt > known.lastAt ? read.lastAt : known.lastAt } : read;
        // Rows merged again (the overlap) change nothing and move nothing.
        if (known && merged.firstAt === known.firstAt && merged.lastAt === known.lastAt) continue;
        entry.reads.set(key, merged);
        moved.names.add(read.itemName);
        if (read.recursive) moved.recursive.add(read.itemName);
      }
      entry.maxId = Math.max(entry.maxId, pass.maxId);
      // A store's first events may arrive after its first pass.
      if (entry.coverage === null && pass.reads.length > 0) entry.coverage = await events.storeCoverage(storeId);
    }
    return { coverage: entry.coverage, reads: [...entry.reads.values()], moved };
  }

  forget(storeId?: string): void {
    if (storeId === undefined) this.stores.clear();
    else this.stores.delete(storeId);
  }
}
