import 'server-only';
import type { ConsumerKind, ConsumerReference, ConsumerScan, ConsumersDb, PlainSightVariable, Resolution } from '@/lib/findings/consumers-db';
import { CONSUMER_KINDS } from '@/lib/findings/consumers-db';
import { detectSecret } from '@/lib/findings/secret-detectors';
import { RateLimiter, realClock, type Clock } from '@/lib/inventory/rate-limiter';
import { logger } from '@/lib/logger';
import { isStoreError } from '@/lib/stores/errors';
import { itemToSecretNames, secretToItemName } from '@/lib/stores/secrets-manager';
import type { ConsumerConnection, ReferencedStoreKind } from './connections';
import { namesExplicitly, parseEnvValue, parseValueFrom, type ReferenceCandidate } from './references';
import type { SecretDeletion, WorkloadSource } from './workload-source';

// The consumer scan: for each AWS connection of the configured stores, its Lambda functions
// (ListFunctions) and ECS task definitions (ListTaskDefinitions ACTIVE, DescribeTaskDefinition),
// read in the background at FINDINGS_CONSUMER_READS_PER_SECOND per connection, again every
// FINDINGS_CONSUMER_REFRESH_HOURS. Each reference is resolved to a configured store and an item its
// inventory holds; each environment value goes through the secret detectors. Both answers hold
// environment values: a value is looked at here, in memory, and dropped: what is kept is the
// variable's NAME, the detector's name, the item's name and the workload's ARN. A refused call or
// an unreadable task definition is kept as the scan's error; the rest goes on.

/** What references are resolved against: each store's account (from its inventory ARNs) and names. */
export interface StoreDirectory {
  /** The account the store's items live in, from their ARNs; null while its inventory holds none. */
  accountOf(storeId: string): Promise<string | null>;
  /** Whether the store's inventory holds an item of this name. */
  holds(storeId: string, name: string): Promise<boolean>;
}

export interface ConsumerScanOptions {
  /** Calls a second per connection (every operation together). */
  ratePerSecond: number;
  refreshHours: number;
  clock?: Clock;
  /** A throttled call is tried again this many times (the limiter slowing down each time) before the scan stops for now. */
  throttleRetries?: number;
  /** After a failure that may pass (throttling, a timeout, AWS unreachable), the next attempt comes this soon. */
  retryAfterMs?: number;
}

export interface ScanOutcome {
  connectionKey: string;
  service: ConsumerKind;
  resources: number;
  references: number;
  plainSight: number;
  error: string | null;
}

const TRANSIENT = new Set(['throttled', 'timeout', 'unavailable']);
const MAX_DESCRIBE_IDS = 4;

/** A store a reference may land in: where it lives and through which connection it is read. */
interface TargetStore {
  id: string;
  kind: ReferencedStoreKind;
  region: string;
  account: string | null;
  connectionKey: string;
}

/** Where a workload lives, from its ARN (arn:aws:<service>:<region>:<account>:…). */
function placeOf(arn: string): { account: string | null; region: string | null } {
  const [, , , region, account] = arn.split(':');
  return { account: account && /^\d{12}$/.test(account) ? account : null, region: region || null };
}

/** The call that failed, as the scan's error names it. */
class ScanCallError extends Error {
  constructor(
    readonly operation: string,
    readonly code: string,
  ) {
    super(`${operation} ${code}`);
  }
}

class ScanAborted extends Error {}

function describeFailure(operation: string, code: string, account: string | null, region: string): string {
  const where = `${account ? `${account} ` : ''}${region}`;
  switch (code) {
    case 'access-denied':
      return `${operation} was refused in ${where} (access denied): allow the dashboard ${operation}.`;
    case 'throttled':
      return `${operation} was throttled in ${where}; the scan is tried again shortly.`;
    case 'credentials-expired':
      return `${operation} failed in ${where}: the credentials are missing, invalid or expired.`;
    case 'timeout':
      return `${operation} did not answer in time in ${where}; the scan is tried again shortly.`;
    default:
      return `${operation} failed in ${where} (${code}).`;
  }
}

export class ConsumerScanner {
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly sources = new Map<string, WorkloadSource>();
  /** When each connection's service is due again, once this process has tried it (else its stored attempt + the refresh). */
  private readonly dueAt = new Map<string, number>();
  private readonly clock: Clock;

  constructor(
    private readonly db: ConsumersDb,
    private readonly sourceFor: (connection: ConsumerConnection) => WorkloadSource,
    private readonly options: ConsumerScanOptions,
  ) {
    this.clock = options.clock ?? realClock;
  }

  private limiter(key: string): RateLimiter {
    let limiter = this.limiters.get(key);
    if (!limiter) this.limiters.set(key, (limiter = new RateLimiter(this.options.ratePerSecond, this.clock)));
    return limiter;
  }

  private source(connection: ConsumerConnection): WorkloadSource {
    let source = this.sources.get(connection.key);
    if (!source) this.sources.set(connection.key, (source = this.sourceFor(connection)));
    return source;
  }

  /** One call at the connection's pace; throttling slows the pace and tries again a few times. */
  private async paced<T>(connection: ConsumerConnection, operation: string, run: (source: WorkloadSource) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const limiter = this.limiter(connection.key);
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new ScanAborted();
      await limiter.take();
      try {
        const out = await run(this.source(connection));
        limiter.succeeded();
        return out;
      } catch (error) {
        const code = isStoreError(error) ? error.code : 'unavailable';
        if (code === 'throttled') {
          limiter.throttled();
          if (attempt < (this.options.throttleRetries ?? 3)) continue;
        }
        throw new ScanCallError(operation, code);
      }
    }
  }

  /** Scans every connection's services that are due (all of them with `force`), one after another. */
  async runOnce(connections: readonly ConsumerConnection[], directory: StoreDirectory, options: { now?: () => Date; force?: boolean; signal?: AbortSignal } = {}): Promise<ScanOutcome[]> {
    const now = options.now ?? (() => new Date());
    const last = new Map((await this.db.scans()).map((s) => [`${s.connectionKey} ${s.service}`, s]));
    const targets: TargetStore[] = [];
    for (const c of connections) for (const s of c.stores) targets.push({ ...s, region: c.region, account: await directory.accountOf(s.id), connectionKey: c.key });
    const describe = new DeletionLookup(this, connections, options.signal);
    const outcomes: ScanOutcome[] = [];
    for (const connection of connections) {
      for (const service of CONSUMER_KINDS) {
        if (options.signal?.aborted) return outcomes;
        const key = `${connection.key} ${service}`;
        const previous = last.get(key);
        const due = this.dueAt.get(key) ?? (previous ? Date.parse(previous.attemptedAt) + this.options.refreshHours * 3_600_000 : 0);
        if (!options.force && due > now().getTime()) continue;
        const outcome = await this.scanService(connection, service, targets, directory, describe, now, options.signal);
        if (!outcome) return outcomes; // stopped
        outcomes.push(outcome);
      }
    }
    return outcomes;
  }

  private async scanService(
    connection: ConsumerConnection,
    service: ConsumerKind,
    targets: TargetStore[],
    directory: StoreDirectory,
    describe: DeletionLookup,
    now: () => Date,
    signal: AbortSignal | undefined,
  ): Promise<ScanOutcome | null> {
    const account = targets.find((t) => t.connectionKey === connection.key && t.account)?.account ?? null;
    const attemptedAt = now().toISOString();
    const base = { connectionKey: connection.key, service, region: connection.region, account, storeIds: connection.stores.map((s) => s.id), attemptedAt };
    const resolver = new ReferenceResolver(connection, targets, directory, describe);
    const references: ConsumerReference[] = [];
    const plain: PlainSightVariable[] = [];
    const unreadable: string[] = [];
    let resources = 0;
    const key = `${connection.key} ${service}`;
    try {
      const consume = async (consumer: { arn: string; name: string }, container: string | null, variable: string, candidates: ReferenceCandidate[], explicit: boolean) => {
        const place = placeOf(consumer.arn);
        for (const candidate of candidates) {
          const found = await resolver.resolve(candidate, { account: place.account ?? account, region: place.region ?? connection.region }, explicit);
          if (!found) continue;
          references.push({ consumerKind: service, consumerArn: consumer.arn, consumerName: consumer.name, container, variable, seenAt: attemptedAt, ...found });
        }
      };
      const inPlainSight = (consumer: { arn: string; name: string }, container: string | null, variable: string, value: string) => {
        const detector = detectSecret(value);
        if (detector) plain.push({ resourceKind: service, resourceArn: consumer.arn, resourceName: consumer.name, ...placeOf(consumer.arn), container, variable, detector, seenAt: attemptedAt });
      };

      if (service === 'lambda-function') {
        let marker: string | undefined;
        do {
          const page = await this.paced(connection, 'lambda:ListFunctions', (s) => s.listFunctions(marker), signal);
          for (const fn of page.functions) {
            resources++;
            for (const [variable, value] of Object.entries(fn.environment)) {
              inPlainSight(fn, null, variable, value);
              await consume(fn, null, variable, parseEnvValue(value), namesExplicitly(value));
            }
          }
          marker = page.next;
        } while (marker);
      } else {
        const arns: string[] = [];
        let token: string | undefined;
        do {
          const page = await this.paced(connection, 'ecs:ListTaskDefinitions', (s) => s.listTaskDefinitions(token), signal);
          arns.push(...page.arns);
          token = page.next;
        } while (token);
        for (const arn of arns) {
          let definition;
          try {
            definition = await this.paced(connection, 'ecs:DescribeTaskDefinition', (s) => s.describeTaskDefinition(arn), signal);
          } catch (error) {
            // One that cannot be read is noted and skipped; a refusal, a throttle or a timeout is every one's.
            if (error instanceof ScanCallError && (error.code === 'not-found' || error.code === 'unavailable')) {
              unreadable.push(arn);
              // None readable at all: AWS is failing, not a definition; the previous scan is kept.
              if (unreadable.length === arns.length) throw error;
              continue;
            }
            throw error;
          }
          resources++;
          for (const container of definition.containers) {
            for (const env of container.environment) inPlainSight(definition, container.name, env.name, env.value);
            for (const secret of container.secrets) {
              const candidate = parseValueFrom(secret.valueFrom);
              await consume(definition, container.name, secret.name, candidate ? [candidate] : [], true);
            }
          }
        }
      }
    } catch (error) {
      if (error instanceof ScanAborted) return null;
      const failed = error instanceof ScanCallError ? error : new ScanCallError(service === 'lambda-function' ? 'lambda:ListFunctions' : 'ecs:ListTaskDefinitions', 'unavailable');
      const message = describeFailure(failed.operation, failed.code, account, connection.region);
      await this.db.putScanFailure({ ...base, error: message });
      this.dueAt.set(key, Date.parse(attemptedAt) + (TRANSIENT.has(failed.code) ? (this.options.retryAfterMs ?? 600_000) : this.options.refreshHours * 3_600_000));
      logger.warn({ connection: connection.key, service, operation: failed.operation, code: failed.code }, 'consumer scan could not read its workloads; the previous scan is kept');
      return { connectionKey: connection.key, service, resources, references: 0, plainSight: 0, error: message };
    }
    const problems = [
      ...(unreadable.length
        ? [`${unreadable.length === 1 ? 'A task definition' : `${unreadable.length} task definitions`} could not be read (ecs:DescribeTaskDefinition): ${unreadable.slice(0, 3).map((a) => a.slice(a.lastIndexOf('/') + 1)).join(', ')}${unreadable.length > 3 ? '…' : ''}.`]
        : []),
      ...resolver.problems(account),
    ];
    const scan: ConsumerScan & { scannedAt: string } = { ...base, scannedAt: attemptedAt, error: problems.length ? problems.join(' ') : null, complete: unreadable.length === 0, resources };
    const unique = dedupe(references);
    await this.db.replaceScan(scan, unique, plain);
    this.dueAt.set(key, Date.parse(attemptedAt) + this.options.refreshHours * 3_600_000);
    logger.info({ connection: connection.key, service, resources, references: unique.length, plainSight: plain.length, unreadable: unreadable.length }, 'consumer scan read its workloads');
    return { connectionKey: connection.key, service, resources, references: unique.length, plainSight: plain.length, error: scan.error };
  }

  /** DescribeSecret through the connection of the store it asks about, at that connection's pace. */
  async describeSecret(connection: ConsumerConnection, secretId: string, signal?: AbortSignal): Promise<SecretDeletion | null> {
    return this.paced(connection, 'secretsmanager:DescribeSecret', (s) => s.describeSecret(secretId), signal);
  }
}

type Found = Pick<ConsumerReference, 'service' | 'account' | 'region' | 'resolution' | 'storeId' | 'itemName' | 'itemArn' | 'deletedAt'>;

/** One answer per (consumer, container, variable, store, item): a Lambda value may read as a parameter and a secret of the same name. */
function dedupe(references: ConsumerReference[]): ConsumerReference[] {
  const seen = new Set<string>();
  return references.filter((r) => {
    const key = JSON.stringify([r.consumerArn, r.container, r.variable, r.service, r.resolution, r.storeId, r.itemName, r.account, r.region]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** DescribeSecret answers of one run, each secret id asked once per store. */
class DeletionLookup {
  private readonly cache = new Map<string, Promise<SecretDeletion | null>>();
  /** Stores whose DescribeSecret was refused or failed in this run, by the failure's code. */
  readonly failures = new Map<string, string>();

  constructor(
    private readonly scanner: ConsumerScanner,
    private readonly connections: readonly ConsumerConnection[],
    private readonly signal: AbortSignal | undefined,
  ) {}

  async find(store: TargetStore, names: string[]): Promise<SecretDeletion | null> {
    const connection = this.connections.find((c) => c.key === store.connectionKey);
    if (!connection || this.failures.has(store.id)) return null;
    const ids = [...new Set(names.flatMap(itemToSecretNames))].slice(0, MAX_DESCRIBE_IDS);
    for (const id of ids) {
      const key = `${store.id}\n${id}`;
      let pending = this.cache.get(key);
      if (!pending) {
        pending = this.scanner.describeSecret(connection, id, this.signal);
        this.cache.set(key, pending);
      }
      try {
        const found = await pending;
        // An id shaped like a partial ARN can resolve to another secret: only its own name counts.
        if (found && found.name === id) return found;
      } catch (error) {
        if (error instanceof ScanAborted) throw error;
        this.failures.set(store.id, error instanceof ScanCallError ? error.code : 'unavailable');
        return null;
      }
    }
    return null;
  }
}

/** Resolves candidates to a configured store and the first of their names the store holds. */
class ReferenceResolver {
  private readonly held = new Map<string, Promise<boolean>>();
  private readonly describeFailures = new Set<string>();

  constructor(
    private readonly connection: ConsumerConnection,
    private readonly targets: TargetStore[],
    private readonly directory: StoreDirectory,
    private readonly describe: DeletionLookup,
  ) {}

  private holds(storeId: string, name: string): Promise<boolean> {
    const key = `${storeId}\n${name}`;
    let pending = this.held.get(key);
    if (!pending) this.held.set(key, (pending = this.directory.holds(storeId, name)));
    return pending;
  }

  /** What could not be read while resolving (a refused DescribeSecret), for the scan's error. */
  problems(account: string | null): string[] {
    return [...this.describeFailures].map((storeId) => {
      const store = this.targets.find((t) => t.id === storeId)!;
      return `${describeFailure('secretsmanager:DescribeSecret', this.describe.failures.get(storeId) ?? 'unavailable', store.account ?? account, store.region)} Secrets scheduled for deletion in store "${storeId}" are not recognised.`;
    });
  }

  /**
   * The candidate's store and item, or how it failed to resolve; null for a non-explicit Lambda value
   * that names nothing (it was configuration, not a reference).
   */
  async resolve(candidate: ReferenceCandidate, workload: { account: string | null; region: string }, explicit: boolean): Promise<Found | null> {
    const account = candidate.account ?? workload.account;
    const region = candidate.region ?? workload.region;
    const common = { service: candidate.service, account, region, itemArn: null, deletedAt: null };
    const stores = this.targets.filter(
      (t) => t.kind === candidate.service && t.region === region && (t.account ?? (t.connectionKey === this.connection.key ? workload.account : null)) === account,
    );
    // Unmatched references keep the name they give (never an environment value: a name or ARN's part), so the findings page can say what could not be matched.
    if (stores.length === 0) return explicit ? { ...common, resolution: 'unresolved', storeId: null, itemName: candidate.names[0]! } : null;
    for (const store of stores) {
      for (const name of candidate.names) if (await this.holds(store.id, name)) return { ...common, resolution: 'resolved', storeId: store.id, itemName: name };
    }
    if (candidate.service === 'secretsmanager') {
      for (const store of stores) {
        const found = await this.describe.find(store, candidate.names);
        if (this.describe.failures.has(store.id)) this.describeFailures.add(store.id);
        if (!found) continue;
        const resolution: Resolution = found.deletedAt ? 'deleted' : 'resolved';
        return { ...common, resolution, storeId: store.id, itemName: secretToItemName(found.name), itemArn: found.arn, deletedAt: found.deletedAt };
      }
    }
    return explicit ? { ...common, resolution: 'not-found', storeId: stores[0]!.id, itemName: candidate.names[0]! } : null;
  }
}
