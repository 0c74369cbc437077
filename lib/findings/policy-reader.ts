import 'server-only';
import type { InventoryIndex } from '@/lib/inventory/inventory-index';
import { RateLimiter, realClock, type Clock } from '@/lib/inventory/rate-limiter';
import { logger } from '@/lib/logger';
import { isStoreError } from '@/lib/stores/errors';
import { accountOf } from './evaluate';
import type { FindingsDb } from './findings-db';
import { analysePolicy, type PolicyReading } from './resource-policy';

// Reads each Secrets Manager secret's resource policy in the background, at a low and configured
// rate (FINDINGS_POLICY_READS_PER_SECOND), and again after FINDINGS_POLICY_REFRESH_HOURS: never a
// value, only GetResourcePolicy. A refusal or a policy that does not parse is kept as a reading of
// its own (the finding says what could not be read); throttling ends the run and slows the next.

export interface PolicySource {
  readonly id: string;
  resourcePolicy(arn: string): Promise<string | null>;
}

export interface PolicyReaderOptions {
  ratePerSecond: number;
  refreshHours: number;
  /** How long one run may read before it yields (the next run goes on). */
  runBudgetMs: number;
  clock?: Clock;
}

export function isPolicySource(store: unknown): store is PolicySource {
  return typeof (store as { resourcePolicy?: unknown }).resourcePolicy === 'function';
}

export class PolicyReader {
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly clock: Clock;

  constructor(
    private readonly db: FindingsDb,
    private readonly options: PolicyReaderOptions,
  ) {
    this.clock = options.clock ?? realClock;
  }

  private limiter(storeId: string): RateLimiter {
    let limiter = this.limiters.get(storeId);
    if (!limiter) {
      limiter = new RateLimiter(this.options.ratePerSecond, this.clock);
      this.limiters.set(storeId, limiter);
    }
    return limiter;
  }

  /** Reads the store's secrets whose policy is unknown or older than the refresh, until the budget is spent. Returns how many were read. */
  async runOnce(store: PolicySource, index: InventoryIndex, now: () => Date = () => new Date()): Promise<number> {
    const started = this.clock.now();
    const readAt = await this.db.policyReadTimes(store.id);
    const staleBefore = now().getTime() - this.options.refreshHours * 3_600_000;
    const due: { name: string; arn: string; account: string | null }[] = [];
    for await (const batch of index.eachItem(store.id, now())) {
      for (const item of batch) {
        const at = readAt.get(item.name);
        if (item.extra.arn && (at === undefined || Date.parse(at) < staleBefore)) due.push({ name: item.name, arn: item.extra.arn, account: accountOf(item.extra) });
      }
    }
    // Never read first, then the oldest.
    due.sort((a, b) => (readAt.get(a.name) ?? '').localeCompare(readAt.get(b.name) ?? ''));
    const limiter = this.limiter(store.id);
    let read = 0;
    for (const secret of due) {
      if (this.clock.now() - started > this.options.runBudgetMs) break;
      await limiter.take();
      let reading: PolicyReading;
      try {
        const text = await store.resourcePolicy(secret.arn);
        reading = text === null ? { outcome: 'none' } : analysePolicy(text, secret.account);
        limiter.succeeded();
      } catch (error) {
        if (isStoreError(error) && error.code === 'throttled') {
          limiter.throttled();
          break;
        }
        if (isStoreError(error) && error.code === 'access-denied') {
          reading = { outcome: 'error', problem: 'GetResourcePolicy was refused (access denied): allow the dashboard secretsmanager:GetResourcePolicy.' };
        } else if (isStoreError(error) && error.code === 'not-found') {
          continue; // deleted since the walk; the next walk drops it
        } else {
          logger.warn({ store: store.id, code: isStoreError(error) ? error.code : 'unknown' }, 'resource policy read failed; tried again later');
          break;
        }
      }
      await this.db.putPolicyReading(store.id, secret.name, reading, now().toISOString());
      read++;
    }
    return read;
  }
}
