import type { ItemFreshnessDetail } from '@/lib/freshness/status';
import type { VersionedRead } from '@/lib/cloudtrail/event-queries';
import type { InventoryExtra } from '@/lib/inventory/records';
import type { StoreKind } from '@/lib/stores/types';
import type { ConsumerKind } from './consumers-db';
import { CONTROLS } from './controls';
import type { PolicyReading } from './resource-policy';
import type { ControlId, FindingEvidence, RaisedFinding } from './types';

// The controls asked of one item: a pure function of what the inventory and the CloudTrail index
// know about it, so the same item gives the same findings wherever it is evaluated (the recompute,
// the tests' brute-force check, the benchmark).

const DAY_MS = 86_400_000;
/** A next rotation date may pass by this much before a missed rotation is reported (AWS rotates within a window). */
const SCHEDULE_GRACE_MS = DAY_MS;
const AWS_MANAGED_SECRETS_KEY = /^(alias\/aws\/secretsmanager|arn:aws:kms:[^:]+:\d+:alias\/aws\/secretsmanager)$/;
const AWS_MANAGED_SSM_KEY = /^(alias\/aws\/ssm|arn:aws:kms:[^:]+:\d+:alias\/aws\/ssm)$/;
/** Words in a name that say it holds a secret; matched against the words of its last level. */
const SECRET_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'secrets', 'token', 'tokens', 'key', 'apikey', 'privatekey',
  'credential', 'credentials', 'creds', 'cred', 'auth', 'dsn', 'pat', 'webhook', 'signing',
]);
/** Words that make "key" mean something else (a public key, a key id, a partition key). */
const NOT_SECRET_WORDS = new Set(['public', 'pub', 'id', 'arn', 'alias', 'name', 'partition', 'sort', 'path', 'url', 'endpoint', 'region']);

export interface FindingSettings {
  /** sm-unused and not-read-recently: days without use (FINDINGS_UNUSED_DAYS, 90). */
  unusedDays: number;
  /** sm-rotated-periodically: days since the last rotation (FINDINGS_MAX_ROTATION_DAYS, 90). */
  maxRotationDays: number;
  /** new-reader: how recent a first read is new (the Access panel's window, 7). */
  newReaderDays: number;
  /** old-version-read-after-rotation: days after a rotation that readers may still ask for the old version (FINDINGS_OLD_VERSION_GRACE_DAYS, 7). */
  oldVersionGraceDays: number;
}

export const DEFAULT_FINDING_SETTINGS: FindingSettings = { unusedDays: 90, maxRotationDays: 90, newReaderDays: 7, oldVersionGraceDays: 7 };

/** What the inventory holds of an item (its row), with its freshness at the time of evaluation. */
export interface ItemUnderReview {
  storeKind: StoreKind;
  name: string;
  kind: string;
  tags: Record<string, string>;
  /** false while the tags are not read yet (Parameter Store: fetched after the walk); no owner is then unknown, not missing. */
  tagsKnown?: boolean;
  kmsKeyId: string | null;
  lastChangedAt: string;
  /** SSM: the version number; Secrets Manager: the AWSCURRENT version id (absent: versioned reads are not judged). */
  currentVersion?: string;
  /** Labels (SSM) or staging labels (Secrets Manager) on the current version. */
  labels?: string[];
  extra: InventoryExtra;
  freshness: Pick<ItemFreshnessDetail, 'status' | 'reason' | 'dueAt'>;
}

/** What the CloudTrail index says about reads of the item (null: the index does not cover its store long enough to tell). */
export interface ItemReads {
  /** The newest successful read of its value (alone or by path); null when none in the index. */
  lastReadAt: string | null;
  /** Principals whose first read lies within the new-reader window and who had not read it in the 90 days before. */
  newReaders: { principal: string; firstReadAt: string }[];
  /** Reads that named a version ("name:3", versionStage, versionId), per principal and version. */
  versioned?: VersionedRead[];
}

export interface ReadCoverage {
  /** Reads are known for the item's store from this time on (the oldest event the index keeps for it). */
  since: string;
}

/** What the consumer scan says of the item: the workloads that name it. */
export interface ItemConsumers {
  /** ECS task definitions and Lambda functions naming it in the last scan, with how (the container and secret or variable NAME). */
  consumers: { kind: ConsumerKind; name: string; arn: string; via: string }[];
  /** The scan of the item's own connection read every workload of both services: that nothing names it can be told. */
  scanComplete: boolean;
  /** When that scan last read them (the older of the two services). */
  scannedAt: string | null;
  /** A Secrets Manager secret the inventory leaves out because it is scheduled for deletion: when (DescribeSecret's DeletedDate). */
  deletedAt?: string;
}

const CONSUMER_LABELS: Record<ConsumerKind, string> = { 'lambda-function': 'Lambda function', 'ecs-task-definition': 'ECS task definition' };

/** "payments-ledger:3 (ECS task definition, ledger LEGACY_DB_PASSWORD)", for evidence. */
export function describeConsumer(c: ItemConsumers['consumers'][number]): string {
  return `${c.name} (${CONSUMER_LABELS[c.kind]}, ${c.via})`;
}

export function ownerOf(tags: Record<string, string>): string | null {
  return tags.owner || tags.Owner || tags.team || tags.Team || null;
}

/** The account in an item's ARN (arn:aws:<service>:<region>:<account>:…), when it has one. */
export function accountOf(extra: InventoryExtra): string | null {
  const account = extra.arn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : null;
}

/** Whether the last level of a name reads like a secret (db-password, stripeApiKey, signing_token…). */
export function looksSecretLike(name: string): boolean {
  const leaf = name.slice(name.lastIndexOf('/') + 1);
  const words = leaf
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (words.some((w) => NOT_SECRET_WORDS.has(w))) return false;
  return words.some((w) => SECRET_WORDS.has(w)) || /(password|secret|token|apikey|privatekey|credential)/.test(words.join(''));
}

// Evidence names dates, not ages: stored findings then change when their facts do, not every day.
const day = (at: number | string) => new Date(typeof at === 'number' ? at : Date.parse(at)).toISOString().slice(0, 10);
/** Staging labels a reader may name without asking for an old value: the current one, and the one a rotation is making. */
const NOT_OLD_LABELS = new Set(['AWSCURRENT', 'AWSPENDING']);

/** Whether a versioned read asked for another version than the current one (by number, id or a label not on the current version). */
export function namesOldVersion(version: string, item: Pick<ItemUnderReview, 'currentVersion' | 'labels'>): boolean {
  if (item.currentVersion === undefined) return false;
  if (version.startsWith('version:')) return version.slice('version:'.length) !== item.currentVersion;
  const label = version.slice('label:'.length);
  return !NOT_OLD_LABELS.has(label) && !(item.labels ?? []).includes(label);
}

const versionLabel = (version: string) => (version.startsWith('label:') ? version.slice('label:'.length) : `version ${version.slice('version:'.length)}`);

/** Freshness statuses past the policy: overdue, overdue still on its first value, or a failing rotation. */
const POLICY_BREACHES = new Set(['overdue', 'never-rotated', 'rotation-failing']);

const applies = new Map(CONTROLS.map((c) => [c.id, c.appliesTo]));

/** Every control the item fails, each with its evidence. `reads` null: CloudTrail cannot tell. */
export function evaluateItem(
  item: ItemUnderReview,
  reads: ItemReads | null,
  coverage: ReadCoverage | null,
  settings: FindingSettings,
  now: Date,
  /** Its resource policy as last read in the background (null: not read yet). */
  policy: (PolicyReading & { readAt: string }) | null = null,
  /** What the consumer scan knows of it (null: its connection was never scanned, or the store has none). */
  consumers: ItemConsumers | null = null,
): RaisedFinding[] {
  const found: RaisedFinding[] = [];
  const t = now.getTime();
  const raise = (control: ControlId, evidence: FindingEvidence) => {
    if (applies.get(control)!.includes(item.storeKind)) found.push({ control, evidence });
  };

  // A secret scheduled for deletion is no item any more: the one question left is who still names it.
  if (consumers?.deletedAt !== undefined) {
    if (consumers.consumers.length > 0) {
      const list = consumers.consumers.slice(0, 10).map(describeConsumer);
      raise('referenced-after-deletion', {
        summary: `Scheduled for deletion on ${consumers.deletedAt.slice(0, 10)}, yet ${consumers.consumers.length === 1 ? `${list[0]} still names it` : `${consumers.consumers.length} workloads still name it: ${list.join('; ')}`}.`,
        dates: { deletedAt: consumers.deletedAt, consumersScannedAt: consumers.scannedAt },
        facts: { consumers: consumers.consumers.length, named: list.join('; ') },
      });
    }
    return found;
  }
  const rotation = item.extra.rotation;
  const changedAt = Date.parse(item.lastChangedAt);

  if (item.storeKind === 'secretsmanager') {
    if (!rotation?.enabled) {
      raise('sm-rotation-enabled', { summary: 'Automatic rotation is off.', facts: { rotationFunction: rotation?.lambdaArn ?? null } });
    }
    if (item.extra.pendingVersion) {
      raise('sm-rotation-succeeded', {
        summary: `Version ${item.extra.pendingVersion} is still AWSPENDING: the last rotation did not finish.`,
        dates: { lastRotatedAt: rotation?.lastRotatedAt ?? null },
        facts: { pendingVersion: item.extra.pendingVersion },
      });
    }
    if (rotation?.enabled && rotation.nextRotationAt && Date.parse(rotation.nextRotationAt) + SCHEDULE_GRACE_MS < t) {
      raise('sm-scheduled-rotation', {
        summary: `Rotation was due on ${day(rotation.nextRotationAt)} and has not happened.`,
        dates: { nextRotationAt: rotation.nextRotationAt, lastRotatedAt: rotation.lastRotatedAt },
      });
    }
    const rotatedAt = rotation?.lastRotatedAt ?? null;
    const ageFrom = rotatedAt ? Date.parse(rotatedAt) : changedAt;
    if (t - ageFrom > settings.maxRotationDays * DAY_MS) {
      raise('sm-rotated-periodically', {
        summary: rotatedAt
          ? `Last rotated on ${day(ageFrom)}; the limit is ${settings.maxRotationDays} days.`
          : `Never rotated; last changed on ${day(ageFrom)}, and the limit is ${settings.maxRotationDays} days.`,
        dates: { lastRotatedAt: rotatedAt, lastChangedAt: item.lastChangedAt },
        facts: { limitDays: settings.maxRotationDays },
      });
    }
    const accessedAt = rotation?.lastAccessedAt ?? null;
    const usedFrom = accessedAt ? Date.parse(accessedAt) : changedAt;
    if (t - usedFrom > settings.unusedDays * DAY_MS) {
      raise('sm-unused', {
        summary: accessedAt
          ? `Last accessed on ${day(usedFrom)} (Secrets Manager's date); the limit is ${settings.unusedDays} days.`
          : `Never accessed since it was last changed on ${day(usedFrom)}; the limit is ${settings.unusedDays} days.`,
        dates: { lastAccessedAt: accessedAt, lastChangedAt: item.lastChangedAt },
        facts: { limitDays: settings.unusedDays },
      });
    }
    if (item.kmsKeyId === null || AWS_MANAGED_SECRETS_KEY.test(item.kmsKeyId)) {
      raise('sm-using-cmk', { summary: 'Encrypted with the AWS managed key aws/secretsmanager.', facts: { kmsKeyId: item.kmsKeyId ?? 'alias/aws/secretsmanager' } });
    }
  }

  if (item.storeKind === 'secretsmanager' && policy) {
    if (policy.outcome === 'error') {
      raise('policy-unreadable', { summary: policy.problem, dates: { readAt: policy.readAt } });
    } else if (policy.outcome === 'policy') {
      const { public: open, crossAccount } = policy.analysis;
      if (open.length > 0) {
        raise('sm-not-public', {
          summary: `${open.length === 1 ? 'A statement' : `${open.length} statements`} of its resource policy allow any principal.`,
          dates: { readAt: policy.readAt },
          facts: { statements: JSON.stringify(open.slice(0, 5)) },
        });
      }
      if (crossAccount.length > 0) {
        const accounts = [...new Set(crossAccount.flatMap((c) => c.accounts))].sort();
        raise('sm-cross-account', {
          summary: `Its resource policy allows ${accounts.length === 1 ? `account ${accounts[0]}` : `${accounts.length} other accounts (${accounts.slice(0, 5).join(', ')})`}.`,
          dates: { readAt: policy.readAt },
          facts: { accounts: accounts.join(', '), statements: JSON.stringify(crossAccount.slice(0, 5).map((c) => c.statement)) },
        });
      }
    }
  }

  if (item.storeKind === 'ssm') {
    if (item.kind === 'SecureString' && (item.kmsKeyId === null || AWS_MANAGED_SSM_KEY.test(item.kmsKeyId))) {
      raise('ssm-secure-string-default-key', { summary: 'A SecureString encrypted with the AWS managed key aws/ssm.', facts: { kmsKeyId: item.kmsKeyId ?? 'alias/aws/ssm' } });
    }
    if ((item.kind === 'String' || item.kind === 'StringList') && looksSecretLike(item.name)) {
      raise('ssm-secret-like-string', { summary: `The name reads like a secret, but the parameter is a ${item.kind}: its value is not encrypted.`, facts: { type: item.kind } });
    }
  }

  if (item.storeKind === 'ssm' || item.storeKind === 'vault') {
    // Neither keeps a last-accessed date: the audit source's reads tell (CloudTrail, Vault's audit log).
    const windowStart = t - settings.unusedDays * DAY_MS;
    if (reads && coverage && Date.parse(coverage.since) <= windowStart && changedAt < windowStart) {
      const lastRead = reads.lastReadAt ? Date.parse(reads.lastReadAt) : null;
      if (lastRead === null || lastRead < windowStart) {
        const source = item.storeKind === 'vault' ? "Vault's audit log" : 'CloudTrail';
        raise('not-read-recently', {
          summary:
            lastRead === null
              ? `No read in ${source} since ${coverage.since.slice(0, 10)}; the limit is ${settings.unusedDays} days.`
              : `Last read on ${day(lastRead)} (${source}); the limit is ${settings.unusedDays} days.`,
          dates: { lastReadAt: reads.lastReadAt, readsKnownSince: coverage.since, lastChangedAt: item.lastChangedAt },
          // The tier prices it: an unused advanced parameter costs money, a standard one does not.
          facts: { limitDays: settings.unusedDays, ...(item.storeKind === 'ssm' ? { tier: item.extra.tier ?? 'Standard' } : {}) },
        });
      }
    }
  }

  if (consumers?.scanComplete && consumers.consumers.length === 0 && reads && coverage) {
    // As not-read-recently: reads known for the whole window, and the item older than it.
    const windowStart = t - settings.unusedDays * DAY_MS;
    const lastRead = reads.lastReadAt ? Date.parse(reads.lastReadAt) : null;
    if (Date.parse(coverage.since) <= windowStart && changedAt < windowStart && (lastRead === null || lastRead < windowStart)) {
      raise('unreferenced-and-unread', {
        summary: `No ECS task definition or Lambda function names it (scanned ${consumers.scannedAt?.slice(0, 10) ?? 'lately'}), and ${
          lastRead === null ? `CloudTrail shows no read since ${coverage.since.slice(0, 10)}` : `its last read was on ${day(lastRead)}`
        }; the limit is ${settings.unusedDays} days.`,
        dates: { lastReadAt: reads.lastReadAt, readsKnownSince: coverage.since, consumersScannedAt: consumers.scannedAt, lastChangedAt: item.lastChangedAt },
        facts: { limitDays: settings.unusedDays, consumers: 0 },
      });
    }
  }

  if (item.storeKind !== 'secretsmanager' && POLICY_BREACHES.has(item.freshness.status)) {
    // The freshness reason counts days ("last changed 400 days ago"); dates keep the stored finding still.
    const status = { overdue: 'Overdue', 'never-rotated': 'Never rotated', 'rotation-failing': 'Rotation failing' }[item.freshness.status as 'overdue'];
    const due = item.freshness.dueAt ? `; due on ${day(item.freshness.dueAt)} by its freshness policy` : '';
    raise('not-rotated-within-policy', { summary: `${status}: last changed on ${day(item.lastChangedAt)}${due}.`, dates: { dueAt: item.freshness.dueAt, lastChangedAt: item.lastChangedAt }, facts: { freshness: item.freshness.status } });
  }

  if (reads && reads.newReaders.length > 0) {
    const list = reads.newReaders.slice(0, 20);
    raise('new-reader', {
      summary: `${reads.newReaders.length === 1 ? `${list[0]!.principal} started` : `${reads.newReaders.length} principals started`} reading it in the last ${settings.newReaderDays} days.`,
      principals: list.map((r) => ({ principal: r.principal, firstSeenAt: r.firstReadAt })),
      facts: { windowDays: settings.newReaderDays, newReaders: reads.newReaders.length },
    });
  }

  if (reads?.versioned?.length) {
    // The last change of the value: a rotation, or a new value put by hand (Secrets Manager's LastChangedDate is the later).
    const changed = Math.max(changedAt, Date.parse(rotation?.lastRotatedAt ?? '') || 0);
    const graceEnds = changed + settings.oldVersionGraceDays * DAY_MS;
    const stale = reads.versioned.filter((r) => r.principal !== null && Date.parse(r.lastAt) > graceEnds && namesOldVersion(r.version, item));
    if (stale.length > 0) {
      const principals = [...new Set(stale.map((r) => r.principal!))].sort();
      const versions = [...new Set(stale.map((r) => versionLabel(r.version)))].sort();
      const lastOld = stale.reduce((a, r) => (r.lastAt > a ? r.lastAt : a), '');
      raise('old-version-read-after-rotation', {
        summary: `Changed on ${day(changed)}, yet ${principals.length === 1 ? principals[0] : `${principals.length} principals`} still read ${versions.join(', ')} more than ${settings.oldVersionGraceDays} days later (last on ${day(lastOld)}).`,
        dates: { changedAt: new Date(changed).toISOString(), lastOldReadOn: day(lastOld) },
        principals: principals.slice(0, 20).map((principal) => ({ principal, lastSeenAt: day(stale.filter((r) => r.principal === principal).reduce((a, r) => (r.lastAt > a ? r.lastAt : a), '')) })),
        facts: { graceDays: settings.oldVersionGraceDays, versions: versions.join(', '), readers: principals.length },
      });
    }
  }

  const vault = item.storeKind === 'vault' ? item.extra.vault : undefined;
  if (vault?.currentDeleted) {
    raise('vault-current-version-deleted', {
      summary: `Version ${item.currentVersion ?? '?'}, the current one, is deleted or destroyed in Vault: a read of the secret returns no value.`,
      dates: { createdAt: item.lastChangedAt },
      facts: { currentVersion: item.currentVersion ?? null, deleteVersionAfter: vault.deleteVersionAfter },
    });
  }

  if (item.tagsKnown !== false && ownerOf(item.tags) === null) {
    raise('no-owner', { summary: 'No owner or team tag.', facts: { tags: Object.keys(item.tags).length } });
  }
  return found;
}
