// The audit benchmark's organisation (scripts/bench/audit-page-bench.ts): 20 accounts x 2 regions,
// a Parameter Store and a Secrets Manager store in each (80 stores, 250 names each), 2,000
// principals (IAM users and assumed roles, each of one account), 500 source addresses; CloudTrail
// events over the last 90 days and the dashboard's own log over three years. Everything is drawn
// from seeded generators, so every run and both dialects get the same rows. Rows come out as
// column arrays in the order of the tables' columns (lib/db/migrations/cloudtrail.ts, app.ts).
import { seededRandom } from '../../lib/random/seeded-random';
import type { HashedFields } from '../../lib/audit/entry-hash';

export const DAY_MS = 86_400_000;
export const CLOUDTRAIL_DAYS = 90;
export const OWN_LOG_DAYS = 3 * 365;
export const ACCOUNTS = Array.from({ length: 20 }, (_, i) => String(100000000000 + i * 37_000_001));
export const REGIONS = ['eu-west-1', 'us-east-1'] as const;
const REGION_TAG: Record<(typeof REGIONS)[number], string> = { 'eu-west-1': 'euw1', 'us-east-1': 'use1' };
export const ENVS = ['prod', 'staging', 'dev'];
export const TEAMS = Array.from({ length: 20 }, (_, i) => `team${String(i).padStart(2, '0')}`);
const NAMES_PER_STORE = 250;
const PRINCIPALS = 2000;
const USERS = 1500;
const SESSIONS_PER_ROLE = 5;
const IPS = Array.from({ length: 500 }, (_, i) => `198.51.${Math.floor(i / 250)}.${i % 250}`);
const AGENTS = ['aws-sdk-js/3.700.0', 'aws-cli/2.15.0', 'Boto3/1.34.0', 'aws-sdk-go-v2/1.30.0'];
export const ERROR_CODES = ['AccessDenied', 'ParameterNotFound', 'ResourceNotFoundException', 'ThrottlingException'];
/** Own-log users: person-N@example.com, the same N as the IAM users person-N, so an actor filter meets both sources. */
const OWN_USERS = 300;

export interface BenchStore {
  id: string;
  kind: 'ssm' | 'secretsmanager';
  account: string;
  region: (typeof REGIONS)[number];
}

export const STORES: BenchStore[] = ACCOUNTS.flatMap((account, a) =>
  REGIONS.flatMap((region) =>
    (['ssm', 'secretsmanager'] as const).map((kind) => ({ id: `a${String(a).padStart(2, '0')}-${REGION_TAG[region]}-${kind === 'ssm' ? 'ssm' : 'sm'}`, kind, account, region })),
  ),
);
const storeIndexOf = (account: number, region: number, kind: 'ssm' | 'secretsmanager') => account * 4 + region * 2 + (kind === 'ssm' ? 0 : 1);

/** Name k of store s: /<env>/<team>/svcN/<kind>-k, spread so that each team's folders are in many stores. */
export function itemName(storeIndex: number, k: number): string {
  return `/${ENVS[k % 3]}/${TEAMS[(k * 7 + storeIndex) % TEAMS.length]}/svc${k % 5}/${k % 2 ? 'key' : 'db'}-${k}`;
}
export const NAMES_IN_A_STORE = NAMES_PER_STORE;

export function configYaml(): string {
  return ['stores:', ...STORES.map((s) => `  - { id: ${s.id}, kind: ${s.kind}, region: ${s.region}, endpoint: "http://127.0.0.1:9" }`), ''].join('\n');
}

interface Principal {
  account: number;
  kind: 'user' | 'role';
  arn: string;
  /** The role's session ARNs (assumed-role); the user's own ARN. */
  sessions: string[];
}

export const PRINCIPAL_LIST: Principal[] = Array.from({ length: PRINCIPALS }, (_, i) => {
  const account = i % ACCOUNTS.length;
  const acct = ACCOUNTS[account]!;
  if (i < USERS) return { account, kind: 'user', arn: `arn:aws:iam::${acct}:user/person-${i}`, sessions: [`arn:aws:iam::${acct}:user/person-${i}`] };
  const role = `${TEAMS[i % TEAMS.length]}-svc-${i}`;
  return {
    account,
    kind: 'role',
    arn: `arn:aws:iam::${acct}:role/${role}`,
    sessions: Array.from({ length: SESSIONS_PER_ROLE }, (_, s) => `arn:aws:sts::${acct}:assumed-role/${role}/session-${s}`),
  };
});

/** ct_actors rows: every (principal, actor ARN) the events use. */
export function actorRows(): [string, string][] {
  return PRINCIPAL_LIST.flatMap((p) => p.sessions.map((s): [string, string] => [p.arn, s]));
}

/** ct_sources rows: one LookupEvents source per account and region. */
export function sourceRows(now: number, eventsPerSource: Map<string, number>): unknown[][] {
  const at = new Date(now).toISOString();
  return ACCOUNTS.flatMap((account) =>
    REGIONS.map((region) => {
      const id = sourceIdOf(account, region);
      return [id, 'lookup-events', account, region, null, at, at, eventsPerSource.get(id) ?? 0, null, null];
    }),
  );
}
const sourceIdOf = (account: string, region: string) => `lookup-${account}-${region}`;

/** A skew towards the start of a list (a few hot items, busy principals, busy addresses). */
const skewed = (r: number, n: number) => Math.floor(r * r * n);

export const EVENT_COLUMNS = ['id', 'event_id', 'source_id', 'event_time', 'raw', 'ingested_at'] as const;
export const ENTRY_COLUMNS = [
  'id', 'event_pk', 'event_time', 'event_source', 'event_name', 'read_only', 'actor_arn', 'actor_type', 'actor_role_arn', 'principal',
  'source_ip', 'user_agent', 'error_code', 'account', 'region', 'store_id', 'item_name', 'path_recursive', 'version_ref',
] as const;

/**
 * CloudTrail events 1..count, oldest first, spread evenly over the 90 days before `now`, one
 * ct_entries row each (the row an ingest maps it to: GetParameter, GetParametersByPath on a folder,
 * KMS Decrypt through the parameter's encryption context, GetSecretValue, writes, DescribeSecret,
 * DescribeParameters on no item, and ~2 % that map to no store). Calls `emit` in batches.
 */
export function* cloudTrailRows(count: number, now: number, batch: number, perSource: Map<string, number>): Generator<{ events: unknown[][]; entries: unknown[][] }> {
  const random = seededRandom(22_22);
  const start = now - CLOUDTRAIL_DAYS * DAY_MS;
  const ingestedAt = new Date(now).toISOString();
  let events: unknown[][] = [];
  let entries: unknown[][] = [];
  // Names, folders and times are made once and reused: generating 10,000,000 rows is most of the seed otherwise.
  const names = STORES.map((_, s) => Array.from({ length: NAMES_PER_STORE }, (_, k) => itemName(s, k)));
  const folders = names.map((list) => list.map((n) => n.replace(/[^/]+$/, '')));
  const principalJson = PRINCIPAL_LIST.map((p) => p.sessions.map((arn) => `{"type":"${p.kind === 'user' ? 'IAMUser' : 'AssumedRole'}","arn":"${arn}","accountId":"${ACCOUNTS[p.account]}"}`));
  let second = -1;
  let time = '';
  for (let i = 1; i <= count; i++) {
    const p = skewed(random(), PRINCIPAL_LIST.length);
    const principal = PRINCIPAL_LIST[p]!;
    const session = Math.floor(random() * principal.sessions.length);
    const actorArn = principal.sessions[session]!;
    const account = principal.account;
    const acct = ACCOUNTS[account]!;
    const region = random() < 0.7 ? 0 : 1;
    const regionName = REGIONS[region];
    const at = start + Math.floor(((i - 0.5) / count) * CLOUDTRAIL_DAYS * DAY_MS);
    if (Math.floor(at / 1000) !== second) {
      second = Math.floor(at / 1000);
      time = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    const k = skewed(random(), NAMES_PER_STORE);
    const roll = random();
    let kind: 'ssm' | 'secretsmanager' = 'ssm';
    let source = 'ssm.amazonaws.com';
    let name: string;
    let readOnly = 1;
    let folder = false;
    let noItem = false;
    let recursive: number | null = null;
    if (roll < 0.3) name = 'GetParameter';
    else if (roll < 0.36) {
      name = 'GetParametersByPath';
      folder = true;
      recursive = random() < 0.5 ? 1 : 0;
    } else if (roll < 0.5) {
      name = 'Decrypt';
      source = 'kms.amazonaws.com';
    } else if (roll < 0.72) {
      name = 'GetSecretValue';
      kind = 'secretsmanager';
      source = 'secretsmanager.amazonaws.com';
    } else if (roll < 0.8) {
      name = 'PutParameter';
      readOnly = 0;
    } else if (roll < 0.86) {
      name = 'PutSecretValue';
      kind = 'secretsmanager';
      source = 'secretsmanager.amazonaws.com';
      readOnly = 0;
    } else if (roll < 0.88) {
      name = 'DeleteParameter';
      readOnly = 0;
    } else if (roll < 0.95) {
      name = 'DescribeSecret';
      kind = 'secretsmanager';
      source = 'secretsmanager.amazonaws.com';
    } else {
      name = 'DescribeParameters';
      noItem = true;
    }
    const storeIndex = storeIndexOf(account, region, kind);
    const store = STORES[storeIndex]!;
    // ~2 %: an account and region with no store configured here (the event maps to no item).
    const mapped = random() >= 0.02;
    const requestName = folder ? folders[storeIndex]![k]! : names[storeIndex]![k]!;
    const item = mapped && !noItem ? requestName : null;
    const errorCode = random() < 0.04 ? ERROR_CODES[Math.floor(random() * ERROR_CODES.length)]! : null;
    const ip = principal.kind === 'role' && random() < 0.3 ? 'ecs-tasks.amazonaws.com' : IPS[skewed(random(), IPS.length)]!;
    const agent = AGENTS[Math.floor(random() * AGENTS.length)]!;
    const sourceId = sourceIdOf(acct, regionName);
    perSource.set(sourceId, (perSource.get(sourceId) ?? 0) + 1);
    const eventId = `ev-${String(i).padStart(9, '0')}`;
    let request: string;
    if (name === 'Decrypt') request = `{"encryptionContext":{"PARAMETER_ARN":"arn:aws:ssm:${regionName}:${acct}:parameter${requestName}"}}`;
    else if (folder) request = `{"path":"${requestName}","recursive":${recursive === 1}}`;
    else if (noItem) request = '{"maxResults":50}';
    else request = kind === 'ssm' ? `{"name":"${requestName}"}` : `{"secretId":"${requestName}"}`;
    const type = principal.kind === 'user' ? 'IAMUser' : 'AssumedRole';
    const raw =
      `{"eventID":"${eventId}","eventTime":"${time}","eventSource":"${source}","eventName":"${name}","awsRegion":"${regionName}",` +
      `"sourceIPAddress":"${ip}","userIdentity":${principalJson[p]![session]},"requestParameters":${request},` +
      `${errorCode ? `"errorCode":"${errorCode}","errorMessage":"denied",` : ''}"readOnly":${readOnly === 1}}`;
    events.push([i, eventId, sourceId, time, raw, ingestedAt]);
    entries.push([
      i, i, time, source, name, readOnly, actorArn, type, principal.kind === 'role' ? principal.arn : null, principal.arn,
      ip, agent, errorCode, acct, regionName, mapped ? store.id : null, item, item !== null && item.endsWith('/') ? recursive : null, null,
    ]);
    if (events.length >= batch) {
      yield { events, entries };
      events = [];
      entries = [];
    }
  }
  if (events.length) yield { events, entries };
}

export const OWN_COLUMNS = ['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'] as const;
export const OWN_READ_ACTIONS = ['reveal'];
export const OWN_WRITE_ACTIONS = ['rotate', 'generate', 'schedule-rotation', 'import'];

/** An own-log entry's fields as stored, the ones its link covers. */
export type OwnFields = HashedFields;

/** Own-log entries 1..count over the three years before `now`, oldest first, as the app writes them (names, never values). */
export function* ownLogEntries(count: number, now: number): Generator<OwnFields & { seq: number }> {
  const random = seededRandom(22_23);
  const start = now - OWN_LOG_DAYS * DAY_MS;
  for (let seq = 1; seq <= count; seq++) {
    const at = new Date(start + Math.floor(((seq - 0.5) / count) * OWN_LOG_DAYS * DAY_MS)).toISOString();
    const user = skewed(random(), OWN_USERS);
    const actor = random() < 0.1 ? `person-${user}@example.com (token tk${user})` : `person-${user}@example.com`;
    const storeIndex = Math.floor(random() * STORES.length);
    const store = STORES[storeIndex]!;
    const name = itemName(storeIndex, skewed(random(), NAMES_PER_STORE));
    const item = `${store.id}:${name}`;
    const roll = random();
    const fail = random() < 0.04;
    let fields: Omit<OwnFields, 'at' | 'actor'>;
    const reason = (what: string) => JSON.stringify({ reason: `${what} (ticket OPS-${Math.floor(random() * 9000) + 1000})`, requestId: `req-${seq}` });
    if (roll < 0.3) fields = { action: 'sign-in', target: 'dashboard', outcome: fail ? 'failure' : 'success', details: JSON.stringify({ provider: 'credentials' }) };
    else if (roll < 0.35) fields = { action: 'sign-out', target: 'dashboard', outcome: 'success', details: '{}' };
    else if (roll < 0.5) fields = { action: 'reveal', target: item, outcome: fail ? 'denied' : 'allowed', details: reason('incident check') };
    else if (roll < 0.57) fields = { action: 'rotate', target: item, outcome: fail ? 'failure' : 'success', details: reason('scheduled rotation') };
    else if (roll < 0.6) fields = { action: 'generate', target: item, outcome: fail ? 'failure' : 'success', details: reason('new key') };
    else if (roll < 0.62) fields = { action: 'schedule-rotation', target: item, outcome: 'success', details: reason('every 90 days') };
    else if (roll < 0.64) fields = { action: 'import', target: `${store.id}:${name.split('/').slice(0, 3).join('/')}/`, outcome: fail ? 'failure' : 'success', details: JSON.stringify({ items: 40 }) };
    else if (roll < 0.74) fields = { action: 'refresh-inventory', target: `${store.id}:/`, outcome: 'success', details: '{}' };
    else if (roll < 0.84) fields = { action: 'view-item', target: item, outcome: 'denied', details: JSON.stringify({ status: 403 }) };
    else if (roll < 0.9) fields = { action: 'suppress-finding', target: item, outcome: 'success', details: reason('accepted risk') };
    else if (roll < 0.95) fields = { action: 'trigger', target: item, outcome: 'success', details: JSON.stringify({ rule: 'overdue' }) };
    else if (roll < 0.97) fields = { action: 'create-token', target: `person-${user}@example.com`, outcome: 'success', details: '{}' };
    else if (roll < 0.985) fields = { action: 'create-user', target: `person-${Math.floor(random() * OWN_USERS)}@example.com`, outcome: 'success', details: JSON.stringify({ role: 'viewer' }) };
    else fields = { action: 'revoke-token', target: `person-${user}@example.com`, outcome: 'success', details: '{}' };
    yield { seq, at, actor, ...fields };
  }
}

/** Draws filter parameters from the same populations the rows come from. */
export function filterValues(seed: number) {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const storeIndex = () => skewed(random(), STORES.length);
  return {
    random,
    pick,
    principalArn: () => PRINCIPAL_LIST[skewed(random(), PRINCIPAL_LIST.length)]!.arn,
    /** "person-12": matches IAM users person-12, person-120..129, person-1200..1299 and own-log users. */
    personText: () => `person-${Math.floor(random() * 200)}`,
    store: () => STORES[storeIndex()]!.id,
    item: () => {
      const s = storeIndex();
      return { store: STORES[s]!.id, name: itemName(s, skewed(random(), NAMES_PER_STORE)) };
    },
    path: () => `/${pick(ENVS)}/${pick(TEAMS)}/`,
    ip: () => IPS[skewed(random(), IPS.length)]!,
    error: () => pick(ERROR_CODES),
  };
}
