// The data of npm run bench:findings (scripts/bench/findings-bench.ts): an inventory of N items in
// one Parameter Store and one Secrets Manager store (60/40, /teamNN/svcN/ folders) with a realistic
// spread of what the findings controls read, and CloudTrail records of reads of those items by about
// 200 principals over 180 days. Deterministic (seeded), so every run measures the same data.
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import type { InventoryRecord } from '@/lib/inventory/records';
import { seededRandom } from '../../lib/random/seeded-random';

export const PARAMS = 'bench-params';
export const SECRETS = 'bench-secrets';
export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const TEAMS = 40;
export const SERVICES = 10;
const DAY = 86_400_000;
/** How far back the CloudTrail events reach. */
export const EVENT_DAYS = 180;
/** Items read last before this many days ago stopped being used. */
const STOPPED_AFTER_DAYS = 100;
const SERVICE_PRINCIPALS = 190;
const OPS_USERS = 10;
const NEW_READERS = 5;
/** New readers start this many days before now (inside the 7-day window). */
const NEW_READER_DAYS = 6;

/** The stores as the CloudTrail index maps events to them (the config's, no roleArn: any account). */
export const LOCATORS: StoreLocator[] = [
  { storeId: PARAMS, kind: 'ssm', region: REGION, account: null },
  { storeId: SECRETS, kind: 'secretsmanager', region: REGION, account: null },
];

/** The CONFIG_FILE: the two stores (endpoints never called) and a few freshness policies. */
export function configYaml(): string {
  return [
    'stores:',
    `  - { id: ${PARAMS}, kind: ssm, region: ${REGION}, endpoint: "http://127.0.0.1:9" }`,
    `  - { id: ${SECRETS}, kind: secretsmanager, region: ${REGION}, endpoint: "http://127.0.0.1:9" }`,
    'freshness:',
    '  - { path: /team00/, maxAge: 30d, warnBefore: 7d }',
    '  - { path: /team01/, maxAge: 7d }',
    '  - { path: /team02/, maxAge: 365d, warnBefore: 30d }',
    '  - { path: /team04/, maxAge: 180d }',
    '  - { path: /team10/, maxAge: 365d }',
    '  - { path: /team20/, maxAge: 4w }',
    '',
  ].join('\n');
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const iso = (ms: number) => new Date(ms).toISOString();
const midnight = (ms: number) => iso(Math.floor(ms / DAY) * DAY);

/** Item i's place: teams and services in turn, so every folder fills evenly (400 folders). */
export function placeOf(i: number): { team: number; service: number; folder: string; folderIndex: number } {
  const team = i % TEAMS;
  const service = Math.floor(i / TEAMS) % SERVICES;
  return { team, service, folder: `/team${pad(team, 2)}/svc${service}/`, folderIndex: team * SERVICES + service };
}

const NEUTRAL_WORDS = ['host', 'port', 'url', 'endpoint', 'timeout', 'bucket', 'queue-url', 'feature-flags', 'log-level', 'replicas', 'pool-size', 'public-key', 'key-id', 'table-name'];
const SECRET_WORDS = ['db-password', 'api-token', 'signing-key', 'client-secret', 'credentials', 'webhook-secret', 'apikey', 'private-key'];
const CMK = Array.from({ length: 20 }, (_, k) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${pad(k, 8)}-1111-4222-8333-${pad(k, 12)}`);

/** Whether an item is read: throughout, only until 100 days ago, or never. */
export type Usage = 'active' | 'stopped' | 'never';

export interface BenchStore {
  storeId: string;
  kind: 'ssm' | 'secretsmanager';
  /** The walk's current records (changed in place by the next walk). */
  records: InventoryRecord[];
  usage: Usage[];
  /** Names of the items read in CloudTrail (active and stopped), by index into `records` at generation. */
  readable: number[];
  active: number[];
}

export interface BenchData {
  now: number;
  stores: [BenchStore, BenchStore];
}

function tagsOf(random: () => number, team: number, i: number): Record<string, string> {
  const roll = random();
  // ~80 % carry an owner or team tag; the rest none, or only tags that name no owner.
  if (roll < 0.4) return { team: `team${pad(team, 2)}`, owner: `person-${i % 53}` };
  if (roll < 0.8) return { team: `team${pad(team, 2)}`, env: 'prod' };
  if (roll < 0.9) return { env: 'prod', 'cost-centre': `cc-${team % 7}` };
  return {};
}

function usageOf(random: () => number): Usage {
  const roll = random();
  return roll < 0.8 ? 'active' : roll < 0.87 ? 'stopped' : 'never';
}

/** Last changed up to three years ago, most of it recent (the cube of a uniform draw). */
const changedAgo = (random: () => number) => Math.floor(random() ** 3 * 3 * 365 * DAY) + 60_000;

export function parameterRecord(random: () => number, i: number, now: number, usage: Usage): InventoryRecord {
  const { team, folder } = placeOf(i);
  const secretLike = random() < 0.3;
  const word = secretLike ? SECRET_WORDS[Math.floor(random() * SECRET_WORDS.length)]! : NEUTRAL_WORDS[Math.floor(random() * NEUTRAL_WORDS.length)]!;
  const name = `${folder}${word}-${pad(i, 6)}`;
  const typeRoll = random();
  // A few secret-like names are plain Strings; neutral ones mostly are.
  const kind = secretLike ? (typeRoll < 0.04 ? 'String' : 'SecureString') : typeRoll < 0.65 ? 'String' : typeRoll < 0.75 ? 'StringList' : 'SecureString';
  // An item read throughout may still be old; one never read is usually old too.
  const changed = now - (usage === 'never' ? changedAgo(random) + 30 * DAY : changedAgo(random));
  const policies: NonNullable<InventoryRecord['extra']['policies']> = [];
  const roll = random();
  if (roll < 0.04) {
    const expires = now + Math.floor((random() * 90 - 30) * DAY);
    policies.push({ type: 'Expiration', status: 'Pending', text: JSON.stringify({ Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: iso(expires) } }) });
  } else if (roll < 0.06) {
    policies.push({ type: 'NoChangeNotification', status: 'Pending', text: JSON.stringify({ Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: String(30 + Math.floor(random() * 90)), Unit: 'Days' } }) });
  }
  const advanced = policies.length > 0 || random() < 0.03;
  return {
    name,
    folder,
    kind,
    description: random() < 0.3 ? `Setting ${i} of team ${team}` : null,
    tags: tagsOf(random, team, i),
    kmsKeyId: kind === 'SecureString' ? (random() < 0.55 ? 'alias/aws/ssm' : CMK[i % CMK.length]!) : null,
    lastChangedAt: iso(changed),
    lastChangedBy: `arn:aws:iam::${ACCOUNT}:user/person-${i % 97}`,
    currentVersion: String(1 + Math.floor(random() * 30)),
    labels: [],
    extra: {
      arn: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`,
      type: kind,
      tier: advanced ? 'Advanced' : 'Standard',
      ...(policies.length ? { policies } : {}),
    },
  };
}

const ARN_SUFFIX = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const suffixOf = (i: number) => Array.from({ length: 6 }, (_, k) => ARN_SUFFIX[(i * 7 + k * 13) % ARN_SUFFIX.length]).join('');

export function secretRecord(random: () => number, i: number, now: number, usage: Usage): InventoryRecord {
  const { team, service, folder } = placeOf(i);
  const name = `${folder}secret-${pad(i, 6)}`;
  const rotating = random() < 0.45;
  let lastRotated: number | null = null;
  let changed: number;
  if (rotating) {
    const roll = random();
    // Most rotate on schedule; some missed their schedule, a few have not rotated for months.
    const ago = roll < 0.85 ? random() * 29 * DAY : roll < 0.95 ? (31 + random() * 50) * DAY : (95 + random() * 105) * DAY;
    lastRotated = now - Math.floor(ago) - 60_000;
    changed = lastRotated;
  } else {
    changed = now - changedAgo(random) - (usage === 'never' ? 30 * DAY : 0);
  }
  const accessed =
    usage === 'active' ? midnight(now - Math.floor(random() * 2) * DAY) : usage === 'stopped' ? midnight(now - (STOPPED_AFTER_DAYS + random() * 80) * DAY) : null;
  const keyRoll = random();
  const pending = random() < 0.015;
  return {
    name,
    folder,
    kind: 'secret',
    description: random() < 0.5 ? `Credentials of svc${service} (team ${team})` : null,
    tags: tagsOf(random, team, i),
    kmsKeyId: keyRoll < 0.45 ? null : keyRoll < 0.55 ? 'alias/aws/secretsmanager' : CMK[i % CMK.length]!,
    lastChangedAt: iso(changed),
    lastChangedBy: null,
    currentVersion: `v-${pad(i, 8)}-0000-4000-8000-000000000000`,
    labels: ['AWSCURRENT'],
    extra: {
      arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name.slice(1)}-${suffixOf(i)}`,
      type: 'secret',
      rotation: {
        enabled: rotating,
        schedule: rotating ? 'rate(30 days)' : null,
        lastRotatedAt: lastRotated === null ? null : iso(lastRotated),
        nextRotationAt: lastRotated === null ? null : iso(lastRotated + 30 * DAY),
        lastAccessedAt: accessed,
        lambdaArn: rotating ? `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-team${pad(team, 2)}` : null,
      },
      stagedVersions: rotating ? 2 : 1 + Math.floor(random() * 3) + (pending ? 1 : 0),
      ...(pending ? { pendingVersion: `p-${pad(i, 8)}-0000-4000-8000-000000000000` } : {}),
    },
  };
}

/** N items, 60 % parameters and 40 % secrets, with each item's CloudTrail usage. */
export function generateInventory(n: number, now: number, seed = 20261220): BenchData {
  const random = seededRandom(seed);
  const secrets = Math.round(n * 0.4);
  const make = (storeId: string, kind: 'ssm' | 'secretsmanager', count: number): BenchStore => {
    const usage: Usage[] = [];
    const records: InventoryRecord[] = [];
    for (let i = 0; i < count; i++) {
      const u = usageOf(random);
      usage.push(u);
      records.push(kind === 'ssm' ? parameterRecord(random, i, now, u) : secretRecord(random, i, now, u));
    }
    return {
      storeId,
      kind,
      records,
      usage,
      readable: usage.flatMap((u, i) => (u === 'never' ? [] : [i])),
      active: usage.flatMap((u, i) => (u === 'active' ? [i] : [])),
    };
  };
  return { now, stores: [make(PARAMS, 'ssm', n - secrets), make(SECRETS, 'secretsmanager', secrets)] };
}

// ---- CloudTrail ----

const serviceRole = (p: number) => `arn:aws:iam::${ACCOUNT}:role/app-${pad(p, 3)}`;
const newReaderRole = (k: number) => `arn:aws:iam::${ACCOUNT}:role/new-consumer-${k}`;
const opsUser = (k: number) => `arn:aws:iam::${ACCOUNT}:user/ops-${k}`;

export const PRINCIPALS = SERVICE_PRINCIPALS + OPS_USERS + NEW_READERS;

function assumed(role: string, session: string): CloudTrailRecord['userIdentity'] {
  const roleName = role.slice(role.lastIndexOf('/') + 1);
  return {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${session}`,
    accountId: ACCOUNT,
    sessionContext: { sessionIssuer: { type: 'Role', arn: role } },
  };
}

/**
 * CloudTrail records of the stores' items, oldest first: service roles read their folders' items
 * (GetParameter, GetParameters, GetSecretValue by name or ARN, Decrypt), operators read svc0
 * folders by path, a few writes, denied reads, and in the last six days five new consumers.
 */
export class EventGenerator {
  private readonly random: () => number;
  /** Each new consumer's items (store index, item index). */
  private readonly newReaderItems: [number, number][][];
  /** The items' names and ARNs as generated (a later walk changes the records, not what was read). */
  private readonly names: string[][];
  private readonly arns: string[][];

  constructor(
    private readonly data: BenchData,
    seed = 777,
  ) {
    this.random = seededRandom(seed);
    this.names = data.stores.map((s) => s.records.map((r) => r.name));
    this.arns = data.stores.map((s) => s.records.map((r) => r.extra.arn!));
    const pickActive = (s: 0 | 1) => {
      const list = data.stores[s].active;
      return [s, list[Math.floor(this.random() * list.length)]!] as [number, number];
    };
    this.newReaderItems = Array.from({ length: NEW_READERS }, () => Array.from({ length: 30 }, () => pickActive(this.random() < 0.6 ? 0 : 1)));
  }

  private pick(list: readonly number[]): number {
    return list[Math.floor(this.random() * list.length)]!;
  }

  /** An item of the store readable at time t (stopped ones only before they stopped). */
  private readableAt(s: 0 | 1, t: number): number {
    const store = this.data.stores[s];
    const i = this.pick(store.readable);
    return store.usage[i] === 'stopped' && t >= this.data.now - STOPPED_AFTER_DAYS * DAY ? this.pick(store.active) : i;
  }

  private nameOf(s: number, i: number): string {
    return this.names[s]![i]!;
  }

  /** The principal that reads an item: the service role of its folder. */
  private readerOf(i: number): string {
    return serviceRole(placeOf(i).folderIndex % SERVICE_PRINCIPALS);
  }

  /** One event at time t (epoch ms). */
  record(id: string, t: number, allowNewReaders: boolean): CloudTrailRecord {
    const r = this.random;
    const base = {
      eventVersion: '1.09',
      eventID: id,
      eventTime: iso(t).replace(/\.\d{3}Z$/, 'Z'),
      awsRegion: REGION,
      recipientAccountId: ACCOUNT,
      sourceIPAddress: `10.0.${Math.floor(r() * 16)}.${Math.floor(r() * 250)}`,
      userAgent: 'aws-sdk-js/3.700.0',
      responseElements: null,
      requestID: `req-${id}`,
      eventType: 'AwsApiCall',
      managementEvent: true,
    };
    const session = `i-${Math.floor(r() * 50)}`;
    if (allowNewReaders && t >= this.data.now - NEW_READER_DAYS * DAY && r() < 0.045) {
      const k = Math.floor(r() * NEW_READERS);
      const [s, i] = this.newReaderItems[k]![Math.floor(r() * 30)]!;
      const name = this.nameOf(s, i);
      return {
        ...base,
        userIdentity: assumed(newReaderRole(k), session),
        ...(s === 0
          ? { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name, withDecryption: true }, readOnly: true }
          : { eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: name.slice(1) }, readOnly: true }),
      };
    }
    const roll = r();
    if (roll < 0.42) {
      const i = this.readableAt(0, t);
      return { ...base, userIdentity: assumed(this.readerOf(i), session), eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: this.nameOf(0, i), withDecryption: true }, readOnly: true };
    }
    if (roll < 0.5) {
      // A service reads a few of its folder's parameters at once (a folder's items are 400 apart).
      const i = this.readableAt(0, t);
      const store = this.data.stores[0];
      const names = [this.nameOf(0, i)];
      for (let j = i + TEAMS * SERVICES, more = 1 + Math.floor(r() * 3); more > 0 && j < store.usage.length; j += TEAMS * SERVICES) {
        const u = store.usage[j];
        if (u === 'active' || (u === 'stopped' && t < this.data.now - STOPPED_AFTER_DAYS * DAY)) {
          names.push(this.nameOf(0, j));
          more--;
        }
      }
      return { ...base, userIdentity: assumed(this.readerOf(i), session), eventSource: 'ssm.amazonaws.com', eventName: 'GetParameters', requestParameters: { names, withDecryption: true }, readOnly: true };
    }
    if (roll < 0.53) {
      // Operators read their teams' svc0 folders by path (ops-k: teams k, k+10, k+20, k+30).
      const k = Math.floor(r() * OPS_USERS);
      const team = k + OPS_USERS * Math.floor(r() * (TEAMS / OPS_USERS));
      return {
        ...base,
        userIdentity: { type: 'IAMUser', arn: opsUser(k), accountId: ACCOUNT },
        eventSource: 'ssm.amazonaws.com',
        eventName: 'GetParametersByPath',
        requestParameters: { path: `/team${pad(team, 2)}/svc0`, recursive: false, withDecryption: true },
        readOnly: true,
      };
    }
    if (roll < 0.88) {
      const i = this.readableAt(1, t);
      const secretId = r() < 0.7 ? this.nameOf(1, i).slice(1) : this.arns[1]![i]!;
      return { ...base, userIdentity: assumed(this.readerOf(i), session), eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId }, readOnly: true };
    }
    if (roll < 0.91) {
      const i = this.pick(this.data.stores[1].readable);
      return { ...base, userIdentity: assumed(this.readerOf(i), session), eventSource: 'secretsmanager.amazonaws.com', eventName: 'DescribeSecret', requestParameters: { secretId: this.nameOf(1, i).slice(1) }, readOnly: true };
    }
    if (roll < 0.94) {
      const i = this.readableAt(0, t);
      return {
        ...base,
        userIdentity: assumed(this.readerOf(i), session),
        eventSource: 'kms.amazonaws.com',
        eventName: 'Decrypt',
        requestParameters: { encryptionContext: { PARAMETER_ARN: this.arns[0]![i] } },
        readOnly: true,
      };
    }
    if (roll < 0.97) {
      const s = r() < 0.6 ? 0 : 1;
      const i = this.pick(this.data.stores[s].readable);
      const writer = { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/person-${i % 97}`, accountId: ACCOUNT };
      return s === 0
        ? { ...base, userIdentity: writer, eventSource: 'ssm.amazonaws.com', eventName: 'PutParameter', requestParameters: { name: this.nameOf(0, i), overwrite: true, type: 'SecureString' }, readOnly: false }
        : { ...base, userIdentity: writer, eventSource: 'secretsmanager.amazonaws.com', eventName: 'PutSecretValue', requestParameters: { secretId: this.nameOf(1, i).slice(1) }, readOnly: false };
    }
    // Denied reads by someone else's role: not reads of the value.
    const s = r() < 0.5 ? 0 : 1;
    const i = this.pick(this.data.stores[s].readable);
    const denied = { errorCode: 'AccessDenied', errorMessage: 'not authorized' };
    return s === 0
      ? { ...base, ...denied, userIdentity: assumed(serviceRole(Math.floor(r() * SERVICE_PRINCIPALS)), session), eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: this.nameOf(0, i) }, readOnly: true }
      : { ...base, ...denied, userIdentity: assumed(serviceRole(Math.floor(r() * SERVICE_PRINCIPALS)), session), eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: this.nameOf(1, i).slice(1) }, readOnly: true };
  }

  /** Records k0..k1-1 of `total`, spread evenly (with jitter) from `from` to `to`, oldest first. */
  batch(prefix: string, k0: number, k1: number, total: number, from: number, to: number, allowNewReaders = true): CloudTrailRecord[] {
    const span = to - from;
    const out: CloudTrailRecord[] = [];
    for (let k = k0; k < k1; k++) out.push(this.record(`${prefix}-${k}`, from + Math.floor(((k + this.random()) / total) * span), allowNewReaders));
    return out;
  }
}

export const EVENTS_FROM = (now: number) => now - EVENT_DAYS * DAY;
