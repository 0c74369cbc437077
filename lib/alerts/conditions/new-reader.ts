import 'server-only';
import { globMatchesName } from '@/lib/auth/path-glob';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { historyComplete } from '@/lib/cloudtrail/history-complete';
import { NEW_READER_LOOKBACK_DAYS, DEFAULT_NEW_READER_DAYS, type EventQueries, type ReadProbe } from '@/lib/cloudtrail/event-queries';
import { hasInventory, inventoryIndexOf, inventoryStatusOf } from '@/lib/inventory/store-status';
import { ReadsByName, summariseReads } from '@/lib/findings/evaluate-store';
import type { IndexedItem } from '@/lib/inventory/inventory-index';
import { itemHref } from '@/lib/links';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, DAY_MS, NotKnownYet, ownerAndTeam, pathScopeOf, selectsOwner, storesOf, type Condition } from './common';

// new-reader: principals whose first successful read of an item lies within the rule's
// newReaderDays (default 7) and who had not read it in the 90 days before, as the Access panel and
// the findings say (folder reads spread to the items below by the findings' ReadsByName,
// summariseReads deciding who is new among the window's readers). Only reads inside the window can
// make someone new, so the condition starts from those (EventQueries.readsOfStore since the window's
// start) and looks back only for the names and principals read there (EventQueries.wereRead),
// instead of grouping the store's whole 97 days on every evaluation. Only items with a read inside
// the window are looked at, never every item. A store whose index does not reach back the whole
// look-back raises nothing (nobody is known new).

/** Items per page when a new reader read a whole folder. */
const FOLDER_PAGE = 1000;
const BATCH = 500;

/** Whether a principal read a name (recursively, when asked) in the look-back before the window: each asked once per evaluation. */
class LookBack {
  private readonly known = new Map<string, boolean>();

  constructor(
    private readonly events: EventQueries,
    private readonly storeId: string,
    private readonly from: string,
    private readonly to: string,
  ) {}

  /** For each probe, whether it was read before the window. */
  async ask(probes: ReadProbe[]): Promise<boolean[]> {
    const keyOf = (p: ReadProbe) => `${p.recursiveOnly ? 'r' : 'a'}\0${p.itemName}\0${p.principal}`;
    const unknown = new Map<string, ReadProbe>();
    for (const p of probes) if (!this.known.has(keyOf(p))) unknown.set(keyOf(p), p);
    const asked = [...unknown.values()];
    const answers = await this.events.wereRead(this.storeId, asked, this.from, this.to);
    asked.forEach((p, i) => this.known.set(keyOf(p), answers[i]!));
    return probes.map((p) => this.known.get(keyOf(p))!);
  }
}

/** The reads that cover an item for one principal, as ReadsByName.of gathers them: the item, its folder, recursive reads above. */
function coveringProbes(name: string, principal: string): ReadProbe[] {
  const folder = folderOf(name);
  return [
    { itemName: name, principal, recursiveOnly: false },
    { itemName: folder, principal, recursiveOnly: false },
    ...ancestorsOf(folder)
      .filter((above) => above !== folder)
      .map((above) => ({ itemName: above, principal, recursiveOnly: true })),
  ];
}

export const newReaderCondition: Condition = async (rule, { now }) => {
  const days = rule.newReaderDays ?? DEFAULT_NEW_READER_DAYS;
  const windowStart = now.getTime() - days * DAY_MS;
  const windowFrom = new Date(windowStart).toISOString();
  const from = new Date(windowStart - NEW_READER_LOOKBACK_DAYS * DAY_MS).toISOString();
  const scope = pathScopeOf(rule);
  const paths = rule.selector?.paths;
  const index = await auditEventIndex();
  // While the sources first walk their history, regular readers look new (lib/cloudtrail/history-complete.ts).
  if (!historyComplete(await index.listSourceStates(), windowFrom)) throw new NotKnownYet("CloudTrail's history is still being read");
  const events = index.queries;
  const subjects: ConditionSubject[] = [];

  for (const store of await storesOf(rule)) {
    // CloudTrail records nothing of the built-in store.
    if (store.kind === 'local') continue;
    const coverage = await events.storeCoverage(store.id);
    if (coverage === null || coverage > from) continue;
    if (!hasInventory(await inventoryStatusOf(store))) continue;
    // Event times are stored as toISOString() gives them, so the text comparison is the time's.
    const inWindow = (await events.readsOfStore(store.id, windowFrom)).filter((r) => r.principal !== null);
    if (inWindow.length === 0) continue;
    const lookBack = new LookBack(events, store.id, from, windowFrom);
    // A name the principal already read (as widely) before the window makes them new on nothing below
    // it; the rest lead to the items to look at.
    const before = await lookBack.ask(inWindow.map((r) => ({ itemName: r.itemName, principal: r.principal!, recursiveOnly: r.recursive })));
    const recent = inWindow.filter((_, i) => !before[i]);
    if (recent.length === 0) continue;
    const byName = new ReadsByName(inWindow);
    const index = await inventoryIndexOf(store);

    // The items a recent first read reaches: the item itself, or those below a folder read; each
    // with the principals first seen on it inside the window, to be checked against the look-back.
    const seen = new Set<string>();
    const candidates: ConditionSubject[] = [];
    const consider = (item: IndexedItem) => {
      if (seen.has(item.name)) return;
      seen.add(item.name);
      const who = ownerAndTeam(item.tags);
      if (!selectsOwner(rule, who)) return;
      for (const reader of summariseReads(byName.of(item.name), windowStart).newReaders) {
        candidates.push({
          storeId: store.id,
          name: item.name,
          url: absoluteUrl(itemHref(store.id, item.name)),
          status: `first read ${reader.firstReadAt}`,
          principal: reader.principal,
          ...who,
        });
      }
    };
    const names = [...new Set(recent.filter((r) => !r.itemName.endsWith('/')).map((r) => r.itemName))].filter((n) => !paths || paths.some((glob) => globMatchesName(glob, n)));
    for (let i = 0; i < names.length; i += BATCH) for await (const batch of index.itemsNamed(store.id, names.slice(i, i + BATCH), now)) batch.forEach(consider);
    const folders = new Map<string, boolean>();
    for (const r of recent) if (r.itemName.endsWith('/')) folders.set(r.itemName, (folders.get(r.itemName) ?? false) || r.recursive);
    for (const [folder, recursive] of folders) {
      let cursor: string | undefined;
      do {
        const page = await index.folderPage({ storeId: store.id, folder, recursive, namePattern: scope.pattern, nameRanges: scope.ranges, limit: FOLDER_PAGE, cursor, now });
        page.items.forEach(consider);
        cursor = page.nextCursor;
      } while (cursor);
    }

    // New: no read covering the item by that principal in the look-back before the window.
    const probes = candidates.map((c) => coveringProbes(c.name, c.principal!));
    const answers = await lookBack.ask(probes.flat());
    let at = 0;
    candidates.forEach((candidate, i) => {
      const covered = answers.slice(at, at + probes[i]!.length).some(Boolean);
      at += probes[i]!.length;
      if (!covered) subjects.push(candidate);
    });
  }
  return subjects;
};
