import 'server-only';
import { freshnessColumnsOf } from '@/lib/freshness/columns';
import { logger } from '@/lib/logger';
import { isStoreError, StoreError, type StoreErrorCode } from '@/lib/stores/errors';
import type { InventoryWalkable } from '@/lib/stores/inventory-walk';
import type { InventoryDb } from './inventory-db';
import { realClock, RateLimiter, type Clock } from './rate-limiter';
import { toInventoryRow } from './records';

// The background sync: walks each AWS store whole, as fast as its API quota allows and never
// faster than the configured rate per operation, into staging; then swaps the walk in at once.
// One walk at a time per store; a request while one runs queues exactly one more. Parameter
// Store tags (one call per item) are fetched afterwards, at their own lower rate.

/** Calls per second per operation when CONFIG_FILE sets none (AWS's quotas; see the README). */
export const DEFAULT_RATES: Record<string, number> = {
  DescribeParameters: 10,
  ListSecrets: 100,
  ListTagsForResource: 4,
  /** Vault: every request of the walk (LIST and GET on metadata/); CONFIG_FILE `rate` sets it per store. */
  VaultRequests: 20,
};

export const WALK_OPERATION: Record<InventoryWalkable['kind'], string> = {
  ssm: 'DescribeParameters',
  secretsmanager: 'ListSecrets',
  vault: 'VaultRequests',
};

const RETRYABLE: readonly StoreErrorCode[] = ['throttled', 'timeout', 'unavailable'];
/** Tags are fetched again after this long, so changed tags show within a day. */
const TAG_REFRESH_MS = 24 * 3600_000;

export interface SyncOptions {
  intervalMs: number;
  /** Per store id, per operation: calls per second (overrides DEFAULT_RATES). */
  rates?: Record<string, Record<string, number>>;
  /** Attempts per page before a walk gives up (throttling backs off between them). */
  maxAttempts?: number;
  clock?: Clock;
  /** Whether Parameter Store tags are fetched after each walk. */
  fetchTags?: boolean;
  /** Chains of one walk walked at once (Secrets Manager splits its walk; default 32). */
  walkConcurrency?: number;
  /** Most chains of one walk open at once; splits stop there (default 32). */
  maxWalkChains?: number;
  /** Pages written to staging at once across all walks (default 4, within the default pool of 5). */
  stagingWrites?: number;
  /** Pages asked for or held (asked for, not yet staged) at once across all walks (default 128). */
  pagesInFlight?: number;
}

/** How the last walk of a store ran: chains in all and the most walked at once. */
export interface WalkShape {
  chains: number;
  maxOpenChains: number;
}

/** What AWS refused during a walk (Parameter Store narrows refused chains down instead of failing). */
interface WalkRefusals {
  /** Name prefixes refused whole: their items keep what the inventory had. */
  prefixes: Set<string>;
  /** Calls AWS refused, and calls it answered. */
  denied: number;
  answered: number;
  /** The first refusal as a StoreError words it. */
  message: string | null;
}

/** Refused prefixes a status names at most (the count says how many more). */
const NAMED_PREFIXES = 5;

/**
 * "Store "id" (account 1234…, region eu-west-1): …" when the store knows where it is. A store that
 * never got an answer (e.g. its region is not enabled) takes the account of a store with the same
 * credentials that did.
 */
function located(store: InventoryWalkable, others: readonly InventoryWalkable[], message: string): string {
  const where = store.location?.();
  if (!where) return message;
  const sibling = others.map((other) => other.location?.()).find((other) => other?.account && other.credentials === where.credentials);
  const account = where.account ?? sibling?.account ?? null;
  const place = `${account ? `account ${account}, ` : ''}region ${where.region}`;
  const head = `Store "${store.id}"`;
  return message.startsWith(head) ? `${head} (${place})${message.slice(head.length)}` : `${message} (${place})`;
}

const DEFAULT_WALK_CONCURRENCY = 32;
/**
 * Pages written at once by all walks together. 80 stores of 32 chains each otherwise build 2,560
 * INSERT statements (a million parameter strings) that all wait for a connection: at 1,000,000
 * items that filled the server's 256 MB heap within seconds. A page's rows are made only once it
 * holds a slot, so a waiting chain keeps just the page AWS returned.
 */
const DEFAULT_STAGING_WRITES = 4;
/**
 * Pages between their call and their staging, all walks together. When writes are the bound, each
 * open chain (30 per Secrets Manager store) holds a page of 100 secrets waiting for a slot: 40
 * stores held 120,000 secrets at 1,000,000 items, over the 256 MB heap.
 */
const DEFAULT_PAGES_IN_FLIGHT = 128;
const DEFAULT_MAX_WALK_CHAINS = 32;
/** Chains kept open per call the rate allows in flight (100 calls/s at 30 ms a call: 3 in flight). */
const CHAIN_MARGIN = 2;
/** Chains split on their first pages while fewer than this many times the wanted chains are open (for balance). */
const SPLIT_WHILE_BELOW = 3;
/** What a call is taken to cost before the walk has timed one. */
const INITIAL_CALL_MS = 50;

export interface WalkProgress {
  startedAt: string;
  items: number;
  pages: number;
  /** Items of the last complete walk, the best guess of where this one ends; null on the first. */
  expectedItems: number | null;
  throttled: number;
  /** The latest retryable failure while the walk goes on (e.g. throttling). */
  retrying: { code: string; message: string } | null;
}

export interface TagProgress {
  running: boolean;
  fetched: number;
  denied: number;
}

interface StoreState {
  store: InventoryWalkable;
  limiters: Map<string, RateLimiter>;
  walk: Promise<void> | null;
  progress: WalkProgress | null;
  queued: boolean;
  tags: TagProgress;
  tagLoop: Promise<void> | null;
  deniedTags: Set<string>;
  lastWalk: WalkShape | null;
}

export class InventorySync {
  private readonly states = new Map<string, StoreState>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly stagingSlots: Slots;
  private readonly pageSlots: Slots;

  constructor(
    private readonly db: InventoryDb,
    stores: InventoryWalkable[],
    private readonly options: SyncOptions,
  ) {
    this.clock = options.clock ?? realClock;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.stagingSlots = new Slots(Math.max(1, options.stagingWrites ?? DEFAULT_STAGING_WRITES));
    this.pageSlots = new Slots(Math.max(1, options.pagesInFlight ?? DEFAULT_PAGES_IN_FLIGHT));
    for (const store of stores) {
      const rates = { ...DEFAULT_RATES, ...options.rates?.[store.id] };
      const limiters = new Map(Object.entries(rates).map(([op, rate]) => [op, new RateLimiter(rate, this.clock)]));
      this.states.set(store.id, {
        store,
        limiters,
        walk: null,
        progress: null,
        queued: false,
        tags: { running: false, fetched: 0, denied: 0 },
        tagLoop: null,
        deniedTags: new Set(),
        lastWalk: null,
      });
    }
  }

  private stores(): InventoryWalkable[] {
    return [...this.states.values()].map((state) => state.store);
  }

  get storeIds(): string[] {
    return [...this.states.keys()];
  }

  /** Walks every store now, then again every interval. */
  start(): void {
    for (const id of this.states.keys()) this.request(id);
    this.timer = setInterval(() => {
      for (const id of this.states.keys()) this.request(id);
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.states.values()].flatMap((s) => [s.walk, s.tagLoop]));
  }

  /** Starts a walk, or queues one behind the walk under way. */
  request(storeId: string): 'started' | 'queued' | 'unknown' {
    const state = this.states.get(storeId);
    if (!state || this.stopped) return 'unknown';
    if (state.walk) {
      state.queued = true;
      return 'queued';
    }
    state.walk = this.walk(state).finally(() => {
      state.walk = null;
      if (state.queued && !this.stopped) {
        state.queued = false;
        this.request(storeId);
      }
    });
    return 'started';
  }

  /** Resolves when the store has no walk running or queued (tests and the benchmark wait on it). */
  async idle(storeId: string): Promise<void> {
    const state = this.states.get(storeId);
    while (state?.walk) await state.walk;
  }

  progress(storeId: string): { walk: WalkProgress | null; queued: boolean; tags: TagProgress } | null {
    const state = this.states.get(storeId);
    return state ? { walk: state.progress, queued: state.queued, tags: { ...state.tags } } : null;
  }

  /** The shape of the store's last complete walk (chains and concurrency), for tests and the benchmark. */
  lastWalk(storeId: string): WalkShape | null {
    return this.states.get(storeId)?.lastWalk ?? null;
  }

  private limiter(state: StoreState, operation: string): RateLimiter {
    let limiter = state.limiters.get(operation);
    if (!limiter) state.limiters.set(operation, (limiter = new RateLimiter(DEFAULT_RATES[operation] ?? 1, this.clock)));
    return limiter;
  }

  /** One AWS call under the operation's limiter, retried on throttling and transient failures. */
  private async paced<T>(
    state: StoreState,
    operation: string,
    call: () => Promise<T>,
    onRetry?: (error: { code: string; message: string }) => void,
    take?: () => Promise<void>,
  ): Promise<T> {
    const limiter = this.limiter(state, operation);
    for (let attempt = 1; ; attempt++) {
      await (take ? take() : limiter.take());
      try {
        const result = await call();
        limiter.succeeded();
        return result;
      } catch (error) {
        if (!isStoreError(error) || !RETRYABLE.includes(error.code) || attempt >= this.maxAttempts || this.stopped) throw error;
        if (error.code === 'throttled') {
          limiter.throttled();
          if (state.progress) state.progress.throttled++;
        } else {
          // Timeouts and unavailability: wait a little longer each time (up to 20 s).
          await this.clock.sleep(Math.min(20_000, 250 * 2 ** attempt));
        }
        onRetry?.({ code: error.code, message: error.message });
      }
    }
  }

  private async walk(state: StoreState): Promise<void> {
    const { store } = state;
    const operation = WALK_OPERATION[store.kind];
    const started = this.clock.now();
    const progress: WalkProgress = {
      startedAt: new Date().toISOString(),
      items: 0,
      pages: 0,
      expectedItems: null,
      throttled: 0,
      retrying: null,
    };
    state.progress = progress;
    const calls: Record<string, number> = {};
    let skipped = 0;
    try {
      const previous = await this.db.index.syncRecord(store.id);
      progress.expectedItems = previous?.synced_at ? previous.items : null;
      await this.db.beginWalk(store.id);
      const refusals: WalkRefusals = { prefixes: new Set(), denied: 0, answered: 0, message: null };
      const shape = await this.walkChains(state, operation, progress, calls, (n) => (skipped += n), refusals);
      state.lastWalk = shape;
      if (this.stopped) return;
      // Every call refused: the store as a whole is, and the walk failed.
      if (refusals.denied > 0 && refusals.answered === 0) throw new StoreError('access-denied', store.id, refusals.message ?? `Store "${store.id}": the inventory walk was refused.`);
      calls[operation] = calls[operation] ?? 0;
      const refused = [...refusals.prefixes].sort();
      const result = await this.db.applyWalk(
        store.id,
        { items: progress.items, pages: progress.pages, durationMs: this.clock.now() - started, calls, throttled: progress.throttled, unreadableItems: skipped },
        store.kind === 'ssm',
        refused.length > 0 ? { prefixes: refused, warning: { code: 'access-denied', message: store.refusedMessage ? store.refusedMessage(refused) : located(store, this.stores(), refusedMessage(store.id, operation, refused)) } } : undefined,
      );
      logger.info({ store: store.id, items: progress.items, pages: progress.pages, chains: shape.chains, ...result, ms: Math.round(this.clock.now() - started) }, 'inventory synced');
      if (store.inventoryTags && this.options.fetchTags !== false) this.startTagLoop(state);
    } catch (error) {
      const code = isStoreError(error) ? error.code : 'unavailable';
      let message = located(store, this.stores(), isStoreError(error) ? error.message : `Store "${store.id}": the inventory walk failed unexpectedly; see the server log.`);
      // AWS answers a region the account has not enabled (an opt-in region) as if the credentials were invalid.
      if (code === 'credentials-expired' && this.stores().some((other) => other !== store && sameCredentials(other, store) && other.location?.()?.account))
        message += ` Other stores with these credentials are answered, so the region ${store.location?.()?.region ?? ''} may not be enabled for this account (an opt-in region): enable it in the account settings, or remove the store.`;
      if (!isStoreError(error)) logger.error({ store: store.id, err: error instanceof Error ? error.name : 'unknown' }, 'inventory walk failed');
      else logger.warn({ store: store.id, code }, 'inventory walk failed');
      // The database itself may be what failed; the next walk records again.
      await this.db.recordFailure(store.id, code, message).catch(() => logger.error({ store: store.id }, 'could not record the failed inventory walk'));
    } finally {
      state.progress = null;
    }
  }

  /**
   * Walks every chain of the store's walk: the first from no token, then the chains pages fork
   * into, up to walkConcurrency at once; each call takes the operation's one shared limiter, so
   * together they never exceed its rate. Items are counted and staged once (by identity).
   */
  private async walkChains(
    state: StoreState,
    operation: string,
    progress: WalkProgress,
    calls: Record<string, number>,
    addSkipped: (n: number) => void,
    refusals: WalkRefusals,
  ): Promise<WalkShape> {
    const { store } = state;
    const concurrency = Math.max(1, this.options.walkConcurrency ?? DEFAULT_WALK_CONCURRENCY);
    const maxChains = Math.max(1, this.options.maxWalkChains ?? DEFAULT_MAX_WALK_CHAINS);
    const pending: { token: string | undefined }[] = [{ token: undefined }];
    const seen = new Set<string>();
    const shape: WalkShape = { chains: 1, maxOpenChains: 0 };
    const limiter = this.limiter(state, operation);
    // Parameter Store chains take the limiter's slots longest chain first (see PriorityGate).
    const gate = store.kind === 'ssm' ? new PriorityGate(limiter) : null;
    let callMs = INITIAL_CALL_MS;
    let open = 0;
    let failure: { error: unknown } | null = null;
    const waiting: (() => void)[] = [];
    const wake = () => waiting.splice(0).forEach((resume) => resume());

    const runChain = async (first: string | undefined, holding: { release: () => void }) => {
      let token = first;
      let pagesRead = 0;
      do {
        const current = token;
        // A page slot from before the call until the page is staged (see DEFAULT_PAGES_IN_FLIGHT).
        holding.release = await this.pageSlots.acquire();
        // The chains the rate can keep busy: calls per second times the seconds a call takes, with a
        // margin. Chains split on their first pages while fewer than three times that are open (so
        // big slices split early), and split or get a twin later only while fewer than that are
        // open: the walk's tail, where one long chain would otherwise run alone.
        const live = open + pending.length;
        const wanted = Math.ceil(limiter.currentRate * (callMs / 1000) * CHAIN_MARGIN);
        const idle = live < wanted;
        const forkRoom = live < wanted * SPLIT_WHILE_BELOW ? Math.max(0, maxChains - live) : 0;
        const page = await this.paced(
          state,
          operation,
          () => {
            calls[operation] = (calls[operation] ?? 0) + 1;
            const callStarted = this.clock.now();
            // A running mean of the time AWS takes to answer (the limiter's wait excluded).
            return store.inventoryPage(current, { forkRoom, idle, expectedItems: progress.expectedItems }).finally(() => (callMs = callMs * 0.8 + (this.clock.now() - callStarted) * 0.2));
          },
          (error) => (progress.retrying = error),
          gate ? () => gate.take(pagesRead) : undefined,
        );
        pagesRead++;
        progress.retrying = null;
        if (page.noCall) {
          calls[operation]!--;
          break;
        }
        progress.pages++;
        if (page.denied) {
          refusals.denied++;
          refusals.message ??= page.denied.message;
          if (page.denied.prefix !== undefined) refusals.prefixes.add(page.denied.prefix);
        } else refusals.answered++;
        let records = page.records;
        let skippedHere = page.skipped;
        if (page.identities) {
          const ids = page.identities;
          records = records.filter((_, i) => {
            const id = ids.records[i]!;
            if (seen.has(id)) return false;
            seen.add(id);
            return true;
          });
          skippedHere = 0;
          for (const id of ids.skipped) {
            if (seen.has(id)) continue;
            seen.add(id);
            skippedHere++;
          }
        }
        // Rows are made once the page holds a write slot (see DEFAULT_STAGING_WRITES), with their freshness
        // columns from the record's extras as mapped (not parsed back from the row's JSON).
        await this.stagingSlots.run(() =>
          this.db.stage(
            records.map((record) => {
              const row = toInventoryRow(store.id, record, store.kind !== 'ssm');
              return Object.assign(row, freshnessColumnsOf(row, this.db.index.policies, record.extra));
            }),
          ),
        );
        progress.items += records.length;
        addSkipped(skippedHere);
        if (page.forks?.length) {
          shape.chains += page.forks.length;
          pending.push(...page.forks.map((fork) => ({ token: fork })));
          wake();
        }
        holding.release();
        token = page.nextToken;
      } while (token && !this.stopped && !failure);
    };

    const worker = async () => {
      while (!failure && !this.stopped) {
        const next = pending.shift();
        if (!next) {
          if (open === 0) return;
          await new Promise<void>((resume) => waiting.push(resume));
          continue;
        }
        open++;
        shape.maxOpenChains = Math.max(shape.maxOpenChains, open);
        const holding = { release: () => {} };
        try {
          await runChain(next.token, holding);
        } catch (error) {
          failure ??= { error };
        } finally {
          holding.release();
          open--;
          wake();
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (failure) throw (failure as { error: unknown }).error;
    return shape;
  }

  private startTagLoop(state: StoreState): void {
    if (state.tagLoop) return;
    state.tags.running = true;
    state.tagLoop = this.fetchTags(state)
      .catch((error: unknown) => {
        // The inventory's database failed (AWS errors are handled inside); the next walk starts again.
        logger.warn({ store: state.store.id, err: error instanceof Error ? error.name : 'unknown' }, 'tag fetch stopped; it resumes after the next walk');
      })
      .finally(() => {
        state.tagLoop = null;
        state.tags.running = false;
      });
  }

  /** Fetches tags for items that have none yet, then for those fetched longest ago, until none is due. */
  private async fetchTags(state: StoreState): Promise<void> {
    const { store } = state;
    const fetchTags = store.inventoryTags!.bind(store);
    while (!this.stopped) {
      const due = await this.db.tagsDue(store.id, new Date(Date.now() - TAG_REFRESH_MS).toISOString(), 50);
      if (due.length === 0) break;
      for (const name of due) {
        if (this.stopped) return;
        try {
          const tags = await this.paced(state, 'ListTagsForResource', () => fetchTags(name));
          await this.db.setTags(store.id, name, tags);
          state.deniedTags.delete(name);
          state.tags.fetched++;
        } catch (error) {
          if (isStoreError(error) && (error.code === 'access-denied' || error.code === 'not-found')) {
            // Kept without tags and counted; asked again only after TAG_REFRESH_MS.
            await this.db.setTags(store.id, name, null);
            if (error.code === 'access-denied') state.deniedTags.add(name);
          } else {
            logger.warn({ store: store.id, code: isStoreError(error) ? error.code : 'unknown' }, 'tag fetch stopped; it resumes after the next walk');
            return;
          }
        }
      }
      state.tags.denied = state.deniedTags.size;
      await this.db.setUnreadableTags(store.id, state.deniedTags.size);
    }
  }
}

function sameCredentials(a: InventoryWalkable, b: InventoryWalkable): boolean {
  const credentials = a.location?.()?.credentials;
  return credentials !== undefined && credentials === b.location?.()?.credentials;
}

/** The status message of a walk that read everything but some refused prefixes. */
function refusedMessage(storeId: string, operation: string, prefixes: readonly string[]): string {
  const named = prefixes.slice(0, NAMED_PREFIXES).map((p) => `"${p}"`).join(', ');
  const more = prefixes.length > NAMED_PREFIXES ? ` and ${prefixes.length - NAMED_PREFIXES} more` : '';
  return `Store "${storeId}": AWS refused ${operation} under ${named}${more} (AccessDeniedException); everything else synced, and the items there keep what the last sync found. Allow ${operation} for those prefixes in the IAM or service control policies, or ignore this if they are meant to stay hidden.`;
}

/** At most `size` tasks run at once; the others wait in order. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }

  /** Waits for a slot; the function returned gives it back (once, however often it is called). */
  async acquire(): Promise<() => void> {
    if (this.active >= this.size) await new Promise<void>((resume) => this.waiting.push(resume));
    else this.active++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      // The slot passes straight to the next waiter, so the count never dips below what waits.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/**
 * Hands an operation's rate-limited slots to the waiting chain that has read the most pages. A
 * chain has one call in flight at a time, so one long chain alone at a walk's end runs at one call
 * per round trip, below the rate; the chains that have read the most are likely the longest, and
 * serving them first finishes them while shorter ones still fill the rest of the rate.
 */
class PriorityGate {
  private readonly waiting: { priority: number; resume: () => void }[] = [];
  private pumping = false;

  constructor(private readonly limiter: RateLimiter) {}

  take(priority: number): Promise<void> {
    return new Promise<void>((resume) => {
      this.waiting.push({ priority, resume });
      if (!this.pumping) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.waiting.length > 0) {
        await this.limiter.take();
        let best = 0;
        for (let i = 1; i < this.waiting.length; i++) if (this.waiting[i]!.priority > this.waiting[best]!.priority) best = i;
        this.waiting.splice(best, 1)[0]!.resume();
      }
    } finally {
      this.pumping = false;
    }
  }
}
