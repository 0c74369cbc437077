import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newReaderCondition } from '@/lib/alerts/conditions/new-reader';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { NEW_READER_LOOKBACK_DAYS, type EventQueries } from '@/lib/cloudtrail/event-queries';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { ReadsByName, summariseReads } from '@/lib/findings/evaluate-store';
import { seededRandom } from '@/lib/random/seeded-random';
import { DATABASES } from '../../support/databases';
import { rule } from '../support/alerts-fixture';
import { ACCOUNT, aged, DAY, lookupsWalked, openConditionsDashboard, REGION, walk, type ConditionsDashboard } from './support';

// new-reader looks back only for the names and principals read inside its window
// (EventQueries.wereRead); its answer must stay the one of the whole-window computation it replaced:
// every read of the store over the look-back and the window grouped (readsOfStore), folder reads
// spread by ReadsByName, summariseReads deciding who is new on each item, nothing from a store whose
// events do not reach back. Random (seeded) reads of items, folders (recursive or not), refusals and
// writes by a handful of principals over 130 days, events exactly on the window's and the
// look-back's edges, and many (now, newReaderDays) pairs; on SQLite and PostgreSQL.

const NOW = Date.parse('2026-12-05T08:00:00.000Z');
const SECOND = 1000;
const LOCATORS: StoreLocator[] = [
  { storeId: 'prod-params', kind: 'ssm', region: REGION, account: ACCOUNT },
  { storeId: 'prod-secrets', kind: 'secretsmanager', region: REGION, account: ACCOUNT },
];
const PARAMETERS = ['/a/x', '/a/y', '/a/z', '/a/b/x', '/a/b/y', '/a/b/c/x', '/a/b/c/y', '/a/b/c/d/x', '/e/x', '/e/y', '/e/f/x', '/e/f/g/x', '/top', '/other'];
const FOLDERS = ['/a', '/a/b', '/a/b/c', '/a/b/c/d', '/e', '/e/f', '/e/f/g', '/a/', '/e/f/'];
const SECRETS = ['/prod/one', '/prod/two', '/prod/three'];
const PRINCIPALS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'role'].map((n) => (n === 'role' ? `arn:aws:iam::${ACCOUNT}:role/deploy` : `arn:aws:iam::${ACCOUNT}:user/${n}`));

const random = seededRandom(20261205);
const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

/** (now, newReaderDays) pairs the condition is asked at. */
const TRIALS = Array.from({ length: 12 }, () => ({ now: NOW - Math.floor(random() * 20) * DAY - Math.floor(random() * 86_400) * SECOND, days: 1 + Math.floor(random() * 14) }));

let serial = 0;
function record(time: number, who: string, eventName: string, requestParameters: Record<string, unknown>, refused: boolean): CloudTrailRecord {
  const role = who.includes(':role/');
  return {
    eventID: `lb-${serial++}`,
    eventTime: new Date(time).toISOString(),
    eventSource: eventName.includes('Secret') ? 'secretsmanager.amazonaws.com' : 'ssm.amazonaws.com',
    eventName,
    awsRegion: REGION,
    recipientAccountId: ACCOUNT,
    userIdentity: role
      ? { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/s-${serial % 3}`, sessionContext: { sessionIssuer: { type: 'Role', arn: who } } }
      : { type: 'IAMUser', arn: who },
    readOnly: eventName !== 'PutParameter',
    requestParameters,
    ...(refused ? { errorCode: 'AccessDenied', errorMessage: 'not authorized' } : {}),
  };
}

/** One random event at `time`: mostly reads of items or folders, some refused, some writes. */
function randomEvent(time: number): CloudTrailRecord {
  const who = pick(PRINCIPALS);
  const refused = random() < 0.1;
  const kind = random();
  if (kind < 0.15) return record(time, who, 'GetSecretValue', { secretId: pick(SECRETS).slice(1) }, refused);
  if (kind < 0.5) return record(time, who, 'GetParameter', { name: pick(PARAMETERS), withDecryption: true }, refused);
  if (kind < 0.6) return record(time, who, 'GetParameters', { names: [pick(PARAMETERS), pick(PARAMETERS)], withDecryption: true }, refused);
  if (kind < 0.85) return record(time, who, 'GetParametersByPath', { path: pick(FOLDERS), recursive: random() < 0.5, withDecryption: true }, refused);
  if (kind < 0.86) return record(time, who, 'GetParametersByPath', { path: '/', recursive: random() < 0.3, withDecryption: true }, refused);
  return record(time, who, 'PutParameter', { name: pick(PARAMETERS), overwrite: true }, false);
}

function randomRecords(): CloudTrailRecord[] {
  const records: CloudTrailRecord[] = [];
  // Both stores' events reach back 130 days (past every trial's look-back) ...
  records.push(record(NOW - 130 * DAY, PRINCIPALS[0]!, 'GetParameter', { name: '/top' }, false));
  records.push(record(NOW - 130 * DAY, PRINCIPALS[0]!, 'GetSecretValue', { secretId: 'prod/one' }, false));
  // ... then spread over them, thicker in the last 30 days so windows hold first reads and repeats.
  for (let i = 0; i < 600; i++) records.push(randomEvent(NOW - Math.floor((random() < 0.6 ? 30 : 130) * DAY * random() / SECOND) * SECOND));
  // On the edges of each trial's window and look-back: exactly on them and a second before.
  for (const { now, days } of TRIALS) {
    const windowStart = now - days * DAY;
    const from = windowStart - NEW_READER_LOOKBACK_DAYS * DAY;
    for (const edge of [windowStart, windowStart - SECOND, from, from - SECOND]) for (let i = 0; i < 3; i++) records.push(randomEvent(edge));
  }
  return records;
}

/** The same events on both databases. */
const RECORDS = randomRecords();

/** The whole-window computation new-reader made before: every item of the store against all reads since the look-back's start. */
async function wholeWindowNewReaders(queries: EventQueries, now: number, days: number): Promise<string[]> {
  const windowStart = now - days * DAY;
  const from = new Date(windowStart - NEW_READER_LOOKBACK_DAYS * DAY).toISOString();
  const found: string[] = [];
  for (const [storeId, names] of [['prod-params', PARAMETERS], ['prod-secrets', SECRETS]] as const) {
    const coverage = await queries.storeCoverage(storeId);
    if (coverage === null || coverage > from) continue;
    const byName = new ReadsByName(await queries.readsOfStore(storeId, from));
    for (const name of names) for (const r of summariseReads(byName.of(name), windowStart).newReaders) found.push(`${storeId} ${name} ${r.principal} ${r.firstReadAt}`);
  }
  return found.sort();
}

describe.each(DATABASES)('new-reader against the whole-window computation (%s)', (database) => {
  let dashboard: ConditionsDashboard;
  let queries: EventQueries;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-lookback-', database);
    await walk('prod-params', PARAMETERS.map((n) => aged(n, new Date(NOW), 10)));
    await walk('prod-secrets', SECRETS.map((n) => aged(n, new Date(NOW), 10)));
    const index = await auditEventIndex();
    await index.ingest('trail', 'cloudtrail-s3', { account: ACCOUNT, region: REGION }, RECORDS, { cursor: { n: 1 }, lastEventTime: new Date(NOW).toISOString(), lastSuccessAt: new Date(NOW).toISOString() }, LOCATORS);
    await lookupsWalked(new Date(NOW), LOCATORS);
    queries = index.queries;
  });
  afterAll(async () => dashboard.close());

  it('raises exactly the same (store, item, principal, first read) on random events at every (now, window)', async () => {
    let total = 0;
    let throughFolders = 0;
    for (const { now, days } of TRIALS) {
      const expected = await wholeWindowNewReaders(queries, now, days);
      const subjects = await newReaderCondition(rule({ events: ['new-reader'], newReaderDays: days }), { now: new Date(now) });
      const got = subjects.map((s) => `${s.storeId} ${s.name} ${s.principal} ${(s.status ?? '').replace(/^first read /, '')}`).sort();
      expect(got, `now ${new Date(now).toISOString()}, ${days} days`).toEqual(expected);
      total += expected.length;
      throughFolders += expected.filter((k) => k.startsWith('prod-params /a/b/c/d/x')).length;
    }
    // The comparison is not empty-handed: many new readers, some only reachable through a folder read.
    expect(total).toBeGreaterThan(30);
    expect(throughFolders).toBeGreaterThan(0);
  });

  it('answers nothing for a store whose events do not reach back the look-back, in both computations', async () => {
    const early = NOW - 40 * DAY;
    expect(await wholeWindowNewReaders(queries, early, 7)).toEqual([]);
    expect(await newReaderCondition(rule({ events: ['new-reader'] }), { now: new Date(early) })).toEqual([]);
  });

  it('wereRead: a name read by that principal inside [from, to) only, a recursive read only when asked for one', async () => {
    const from = new Date(NOW - 200 * DAY).toISOString();
    const to = new Date(NOW + DAY).toISOString();
    const [alice, , , , role] = PRINCIPALS as [string, string, string, string, string];
    const answers = await queries.wereRead(
      'prod-params',
      [
        { itemName: '/top', principal: alice, recursiveOnly: false },
        { itemName: '/top', principal: alice, recursiveOnly: true },
        { itemName: '/nowhere', principal: alice, recursiveOnly: false },
        { itemName: '/top', principal: 'arn:aws:iam::111122223333:user/nobody', recursiveOnly: false },
        { itemName: '/prod/one', principal: alice, recursiveOnly: false },
      ],
      from,
      to,
    );
    expect(answers).toEqual([true, false, false, false, false]);
    // Only the window asked: alice's read of /top 130 days ago is outside [from, to) when from is later.
    expect(await queries.wereRead('prod-params', [{ itemName: '/top', principal: alice, recursiveOnly: false }], from, new Date(NOW - 131 * DAY).toISOString())).toEqual([false]);
    expect(await queries.wereRead('prod-secrets', [{ itemName: '/prod/one', principal: alice, recursiveOnly: false }], from, to)).toEqual([true]);
    // More probes than one statement takes: answered in order.
    const many = Array.from({ length: 450 }, (_, i) => ({ itemName: i % 2 === 0 ? '/top' : `/none-${i}`, principal: i % 2 === 0 ? alice : role, recursiveOnly: false }));
    expect(await queries.wereRead('prod-params', many, from, to)).toEqual(many.map((_, i) => i % 2 === 0));
  });
});
