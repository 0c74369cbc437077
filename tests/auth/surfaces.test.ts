import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as exportRoute } from '@/app/api/v1/audit/export/route';
import { GET as auditRoute } from '@/app/api/v1/audit/route';
import { GET as inventoryRoute } from '@/app/api/v1/inventory/route';
import { GET as metricsRoute } from '@/app/metrics/route';
import { GET as accessRoute } from '@/app/api/v1/stores/[store]/access/[...name]/route';
import { appendAudit } from '@/lib/audit/audit-log';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { timelineChart, timelinePage, type TimelineEntry } from '@/lib/data/audit-timeline';
import { getFolderView, listItemsPage } from '@/lib/data/browse';
import { statusForGrants } from '@/lib/data/inventory-status';
import type { InventoryStatus } from '@/lib/data/inventory-types';
import { inventoryDb } from '@/lib/inventory/inventory';
import { toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';
import { principalForUser } from '@/lib/session';
import { SENTINEL } from '../contract/fixture';
import { DATABASES } from '../support/databases';
import { inventoryRecord } from '../support/inventory-records';
import { bearer, INSIDE, OUTSIDE, startHarness, type Harness, type Subject } from './harness';

// Issue 18, "every surface cut by the one check": the inventory status (API and the browse page's
// payload), the audit timeline with its export and chart, the raw CloudTrail events in it and the
// Access panel, and /metrics, asked by the harness's viewer, auditor and operator (all held to
// /prod/payments/**) and by an admin of everything. Everything seeded outside the grants carries
// OUTSIDER (names, emails, ARNs) or one of the WALK figures; no scoped caller's answer may hold
// either, whatever its status, while what lies inside is there.

const OUTSIDER = 'outsider';
/** The walk's store-wide figures, distinctive enough to be searched for in a body. */
const WALK = { pages: 48611, calls: 52673, unreadable: 7919, durationMs: 61813, throttled: 3 };
const ACCOUNT = '111122223333';
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
const KMS_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${OUTSIDER}-key-0001`;

const AWS_STORES = `  - id: aws-params
    kind: ssm
    region: us-east-1
  - id: aws-secrets
    kind: secretsmanager
    region: us-east-1
`;
/** How the event index maps events to stores (the built-in store stands for a Parameter Store here). */
const LOCATORS: StoreLocator[] = [
  { storeId: 'aws-secrets', kind: 'secretsmanager', region: 'us-east-1', account: null },
  { storeId: 'local', kind: 'ssm', region: 'us-east-1', account: null },
];

/** The Parameter Store inventory: a few items inside the grants, more outside. */
const PARAMS: InventoryRecord[] = [
  ...['a', 'b', 'c', 'd', 'e'].map((leaf) => `/prod/payments/param-${leaf}`),
  ...Array.from({ length: 9 }, (_, i) => `/prod/web/${OUTSIDER}-param-${i}`),
].map((name) => inventoryRecord(name));
const OWN_ITEMS = { local: 3, 'aws-params': 5, 'aws-secrets': 0 } as const;

/** Own-log entries: whose target is inside the grants (shown to the auditor) or not (never shown to them). */
const OWN_ENTRIES = {
  inside: [
    { actor: 'inside-item@example.com', action: 'reveal', target: `local:${INSIDE.name}`, outcome: 'success', details: { reason: 'inside' } },
    { actor: 'inside-folder@example.com', action: 'import', target: 'local:/prod/payments/', outcome: 'success', details: { imported: 2 } },
  ],
  outside: [
    { actor: `${OUTSIDER}-refresh@example.com`, action: 'refresh-inventory', target: 'local:/', outcome: 'success', details: { state: 'started' } },
    { actor: `${OUTSIDER}-import@example.com`, action: 'import', target: 'local:/prod/', outcome: 'success', details: { imported: 4 } },
    { actor: `${OUTSIDER}-denied@example.com`, action: 'list', target: 'local:/prod/', outcome: 'denied', details: { status: 403 } },
    { actor: `${OUTSIDER}-item@example.com`, action: 'reveal', target: `local:${OUTSIDE.name}`, outcome: 'success', details: { reason: 'x' } },
    { actor: `${OUTSIDER}-signin@example.com`, action: 'sign-in', target: 'dashboard', outcome: 'success', details: {} },
  ],
} as const;

let eventNumber = 0;
function event(eventSource: string, eventName: string, extra: Partial<CloudTrailRecord>): CloudTrailRecord {
  eventNumber++;
  return {
    eventID: `surface-${eventNumber}`,
    eventTime: new Date(Math.floor(Date.now() / 60_000) * 60_000 - eventNumber * 60_000).toISOString(),
    eventSource,
    eventName,
    awsRegion: 'us-east-1',
    recipientAccountId: ACCOUNT,
    sourceIPAddress: '203.0.113.7',
    readOnly: true,
    userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/reader/session` },
    ...extra,
  };
}

/** CloudTrail events naming items inside and outside the grants in every place a name can be. */
const EVENTS = {
  /** Several secrets by name and ARN; resources list them all and the KMS key. */
  batch: event('secretsmanager.amazonaws.com', 'BatchGetSecretValue', {
    requestParameters: { secretIdList: ['prod/payments/batch-a', `prod/web/${OUTSIDER}-batch-b`, secretArn(`prod/web/${OUTSIDER}-batch-arn`)] },
    resources: [
      { accountId: ACCOUNT, type: 'AWS::SecretsManager::Secret', ARN: secretArn('prod/payments/batch-a') },
      { accountId: ACCOUNT, type: 'AWS::SecretsManager::Secret', ARN: secretArn(`prod/web/${OUTSIDER}-batch-b`) },
      { accountId: ACCOUNT, type: 'AWS::SecretsManager::Secret', ARN: secretArn(`prod/web/${OUTSIDER}-batch-arn`) },
      { accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: KMS_KEY },
    ],
  }),
  /** Maps to one item (the request names one), but its resources name another: one row in the index. */
  resourcesOnly: event('secretsmanager.amazonaws.com', 'BatchGetSecretValue', {
    requestParameters: { secretIdList: ['prod/payments/batch-c'] },
    resources: [
      { accountId: ACCOUNT, type: 'AWS::SecretsManager::Secret', ARN: secretArn('prod/payments/batch-c') },
      { accountId: ACCOUNT, type: 'AWS::SecretsManager::Secret', ARN: secretArn(`prod/web/${OUTSIDER}-resource`) },
    ],
  }),
  /** A filter (its values are dropped at ingest) and an errors list in the response naming an outside secret. */
  errors: event('secretsmanager.amazonaws.com', 'BatchGetSecretValue', {
    requestParameters: { secretIdList: ['prod/payments/batch-d', `prod/web/${OUTSIDER}-errors`], filters: [{ key: 'name', values: [`prod/web/${OUTSIDER}`] }] },
    responseElements: {
      errors: [
        { secretId: `prod/web/${OUTSIDER}-errors`, errorCode: 'ResourceNotFoundException', message: `Secrets Manager can't find prod/web/${OUTSIDER}-errors.` },
        { secretId: 'prod/payments/batch-d', errorCode: 'DecryptionFailure', message: 'The key could not decrypt it.' },
      ],
    },
  }),
  /** A refused call whose message quotes an outside ARN. */
  message: event('secretsmanager.amazonaws.com', 'BatchGetSecretValue', {
    requestParameters: { secretIdList: ['prod/payments/batch-e', `prod/web/${OUTSIDER}-message`] },
    errorCode: 'AccessDeniedException',
    errorMessage: `User is not authorized to perform secretsmanager:GetSecretValue on resource: ${secretArn(`prod/web/${OUTSIDER}-message`)} because no identity-based policy allows it`,
  }),
  /** Parameter Store names, and a Decrypt whose encryption context names an outside parameter. */
  params: event('ssm.amazonaws.com', 'GetParameters', { requestParameters: { names: [INSIDE.name, `/prod/web/${OUTSIDER}-param`], withDecryption: true } }),
  decrypt: event('kms.amazonaws.com', 'Decrypt', {
    requestParameters: { encryptionContext: { PARAMETER_ARN: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/prod/web/${OUTSIDER}-decrypt` } },
    resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: KMS_KEY }],
  }),
};

describe.each(DATABASES)('every surface cut by the one check (%s)', (database) => {
  let h: Harness;
  const url = (path: string) => `http://dashboard.test${path}`;
  const principal = async (subject: Subject) => (await principalForUser(h.userIds[subject], 'token'))!;

  beforeAll(async () => {
    h = await startHarness({ database, extraStores: AWS_STORES });
    // A completed walk of the Parameter Store, as the sync would leave it (no AWS is called here).
    const db = await inventoryDb();
    await db.beginWalk('aws-params');
    await db.stage(PARAMS.map((r) => toInventoryRow('aws-params', r, false)));
    await db.applyWalk(
      'aws-params',
      { items: PARAMS.length, pages: WALK.pages, durationMs: WALK.durationMs, calls: { DescribeParameters: WALK.calls }, throttled: WALK.throttled, unreadableItems: WALK.unreadable },
      true,
    );
    for (const entry of [...OWN_ENTRIES.inside, ...OWN_ENTRIES.outside]) await appendAudit({ ...entry, details: { ...entry.details } });
    await (await auditEventIndex()).ingest('surfaces', 'lookup-events', { account: ACCOUNT, region: 'us-east-1' }, Object.values(EVENTS), { cursor: {} }, LOCATORS);
  }, 60_000);
  afterAll(() => h?.cleanup());

  /** `asked`: a name the caller gave, which a 404 may repeat (it tells them nothing new). */
  type Answer = { status: number; body: string; asked?: string };
  const text = async (response: Response): Promise<Answer> => ({ status: response.status, body: await response.text() });

  /** Each surface, asked for real (route handlers, or the data layer a server page renders from). */
  const surfaces: Record<string, (subject: Subject) => Promise<Answer>> = {
    'GET /api/v1/inventory': async (subject) => text(await inventoryRoute(new Request(url('/api/v1/inventory'), bearer(h.tokens[subject])))),
    'the browse page of the Parameter Store': async (subject) => {
      const view = await getFolderView(await principal(subject), 'aws-params', '/', {});
      return { status: view ? 200 : 404, body: JSON.stringify(view) };
    },
    'the items API (its status)': async (subject) => {
      const page = await listItemsPage(await principal(subject), 'aws-params', { path: '/', recursive: true, limit: 500 });
      return { status: page ? 200 : 404, body: JSON.stringify(page) };
    },
    'GET /api/v1/audit': async (subject) => text(await auditRoute(new Request(url('/api/v1/audit?limit=500'), bearer(h.tokens[subject])))),
    'the audit export (JSON)': async (subject) => text(await exportRoute(new Request(url('/api/v1/audit/export?format=json'), bearer(h.tokens[subject])))),
    'the audit export (CSV)': async (subject) => text(await exportRoute(new Request(url('/api/v1/audit/export?format=csv'), bearer(h.tokens[subject])))),
    'the Access panel of an item inside': async (subject) =>
      text(
        await accessRoute(new Request(url('/api/v1/stores/aws-secrets/access/prod/payments/batch-a'), bearer(h.tokens[subject])), {
          params: Promise.resolve({ store: 'aws-secrets', name: ['prod', 'payments', 'batch-a'] }),
        }),
      ),
    'the Access panel of an item outside': async (subject) => ({
      ...(await text(
        await accessRoute(new Request(url(`/api/v1/stores/aws-secrets/access/prod/web/${OUTSIDER}-batch-b`), bearer(h.tokens[subject])), {
          params: Promise.resolve({ store: 'aws-secrets', name: ['prod', 'web', `${OUTSIDER}-batch-b`] }),
        }),
      )),
      asked: `/prod/web/${OUTSIDER}-batch-b`,
    }),
    '/metrics with the caller\'s API token': async (subject) => {
      process.env.METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';
      try {
        return text(await metricsRoute(new Request(url('/metrics'), bearer(h.tokens[subject]))));
      } finally {
        delete process.env.METRICS_TOKEN;
      }
    },
  };

  const A = 200;
  const EXPECTED: Record<string, Record<'viewer' | 'auditor' | 'operator' | 'admin', number>> = {
    'GET /api/v1/inventory': { viewer: A, auditor: A, operator: A, admin: A },
    'the browse page of the Parameter Store': { viewer: A, auditor: A, operator: A, admin: A },
    'the items API (its status)': { viewer: A, auditor: A, operator: A, admin: A },
    'GET /api/v1/audit': { viewer: 403, auditor: A, operator: 403, admin: A },
    'the audit export (JSON)': { viewer: 403, auditor: A, operator: 403, admin: A },
    'the audit export (CSV)': { viewer: 403, auditor: A, operator: 403, admin: A },
    'the Access panel of an item inside': { viewer: 403, auditor: A, operator: 403, admin: A },
    'the Access panel of an item outside': { viewer: 404, auditor: 404, operator: 404, admin: A },
    // No dashboard credential opens /metrics, an admin's neither: only METRICS_TOKEN does.
    "/metrics with the caller's API token": { viewer: 401, auditor: 401, operator: 401, admin: 401 },
  };

  /** What the admin's answer holds of the outside, so the scoped rows below could fail. */
  const ADMIN_SEES_OUTSIDE = new Set(['GET /api/v1/inventory', 'the browse page of the Parameter Store', 'the items API (its status)', 'GET /api/v1/audit', 'the audit export (JSON)', 'the audit export (CSV)']);

  const cases = Object.entries(EXPECTED).flatMap(([surface, bySubject]) =>
    (['viewer', 'auditor', 'operator', 'admin'] as const).map((subject) => ({ surface, subject, expected: bySubject[subject] })),
  );

  describe.each(cases)('$subject: $surface', ({ surface, subject, expected }) => {
    it(`answers ${expected} and, scoped, holds nothing from outside the grants`, async () => {
      const answer = await surfaces[surface]!(subject);
      const { status } = answer;
      const body = answer.asked ? answer.body.replaceAll(answer.asked, '') : answer.body;
      expect(status).toBe(expected);
      expect(body).not.toContain(SENTINEL);
      if (subject === 'admin') {
        if (ADMIN_SEES_OUTSIDE.has(surface)) expect(body.includes(OUTSIDER) || body.includes(String(WALK.pages))).toBe(true);
        return;
      }
      expect(body).not.toContain(OUTSIDER);
      expect(body).not.toContain(OUTSIDE.name);
      for (const figure of Object.values(WALK).filter((n) => n > 100)) expect(body).not.toContain(String(figure));
    });
  });

  describe('the inventory status', () => {
    const statuses = async (subject: Subject) => {
      const { body } = await surfaces['GET /api/v1/inventory']!(subject);
      return new Map((JSON.parse(body) as { stores: InventoryStatus[] }).stores.map((s) => [s.storeId, s]));
    };

    it.each(['viewer', 'auditor', 'operator'] as const)('gives a %s their own item count and none of the walk figures', async (subject) => {
      const mine = await statuses(subject);
      expect([...mine.keys()].sort()).toEqual(['aws-params', 'aws-secrets', 'local']);
      for (const [storeId, status] of mine) {
        expect(status.scope).toBe('grants');
        expect(status.items).toBe(OWN_ITEMS[storeId as keyof typeof OWN_ITEMS]);
        expect(status.unreadable).toBeNull();
        expect(status.lastWalk).toBeNull();
        expect(status.tags?.pending ?? null).toBeNull();
      }
      // What the UI needs to follow a sync stays.
      expect(mine.get('aws-params')).toMatchObject({ syncedAt: expect.any(String), tags: { pending: null, running: false }, walking: null, error: null });
      expect(mine.get('aws-secrets')).toMatchObject({ syncedAt: null, items: 0 });
    });

    it('gives an admin of everything the whole store', async () => {
      const all = await statuses('admin');
      expect(all.get('local')).toMatchObject({ scope: 'store', items: 127 });
      expect(all.get('aws-params')).toMatchObject({
        scope: 'store',
        items: PARAMS.length,
        unreadable: { items: WALK.unreadable, tags: 0 },
        tags: { pending: PARAMS.length, running: false },
        lastWalk: { pages: WALK.pages, calls: { DescribeParameters: WALK.calls }, throttled: WALK.throttled, durationMs: WALK.durationMs },
      });
    });

    it('the browse page and the items API carry the same cut status', async () => {
      const view = await getFolderView(await principal('viewer'), 'aws-params', '/', {});
      expect(view?.status).toMatchObject({ scope: 'grants', items: OWN_ITEMS['aws-params'], unreadable: null, lastWalk: null });
      const page = await listItemsPage(await principal('viewer'), 'aws-params', { path: '/', recursive: true, limit: 500 });
      expect(page?.status).toEqual(view?.status);
      expect(page?.items.map((i) => i.name)).toHaveLength(OWN_ITEMS['aws-params']);
    });

    it('a walk under way keeps its start and retry for a scoped caller, and none of its counts nor the prefixes AWS refused', () => {
      const status: InventoryStatus = {
        storeId: 'aws-params',
        label: 'Parameters',
        kind: 'ssm',
        live: false,
        scope: 'store',
        syncedAt: '2026-11-01T10:00:00.000Z',
        items: 14,
        walking: { startedAt: '2026-11-01T11:00:00.000Z', items: 40, pages: 4, expectedItems: 14, throttled: 2, retrying: { code: 'throttled', message: 'AWS is rate-limiting' } },
        queued: true,
        error: { code: 'access-denied', message: `Store "aws-params": AWS refused DescribeParameters under "/${OUTSIDER}/" (AccessDeniedException)`, at: '2026-11-01T09:00:00.000Z' },
        unreadable: { items: 1, tags: 2 },
        tags: { pending: 3, running: true },
        lastWalk: { durationMs: 1, pages: 2, calls: { DescribeParameters: 2 }, throttled: 0 },
      };
      const frozen = structuredClone(status);
      const cut = statusForGrants(status, 5);
      expect(JSON.stringify(cut)).not.toContain(OUTSIDER);
      expect(cut).toEqual({
        ...status,
        error: { code: 'access-denied', message: expect.stringContaining('AccessDeniedException'), at: '2026-11-01T09:00:00.000Z' },
        scope: 'grants',
        items: 5,
        walking: { startedAt: '2026-11-01T11:00:00.000Z', items: null, pages: null, expectedItems: null, throttled: null, retrying: { code: 'throttled', message: 'AWS is rate-limiting' } },
        unreadable: null,
        tags: { pending: null, running: true },
        lastWalk: null,
      });
      expect(status).toEqual(frozen);
    });
  });

  describe('the audit timeline', () => {
    const entriesOf = async (subject: Subject) => JSON.parse((await surfaces['GET /api/v1/audit']!(subject)).body).entries as TimelineEntry[];
    const own = (entries: TimelineEntry[]) => entries.filter((e) => e.source === 'dashboard');

    it('shows the scoped auditor own-log entries on their items and on folders whose subtree they audit, nothing above', async () => {
      const mine = own(await entriesOf('auditor'));
      const actors = mine.map((e) => e.actor);
      for (const inside of OWN_ENTRIES.inside) expect(actors).toContain(inside.actor);
      for (const outside of OWN_ENTRIES.outside) expect(actors).not.toContain(outside.actor);
      expect(mine.filter((e) => e.storeId === 'local' && (e.itemName === '/' || e.itemName === '/prod/'))).toEqual([]);
      const all = own(await entriesOf('admin')).map((e) => e.actor);
      for (const entry of [...OWN_ENTRIES.inside, ...OWN_ENTRIES.outside]) expect(all).toContain(entry.actor);
    });

    it('counts in the chart exactly what the timeline shows the caller', async () => {
      for (const subject of ['auditor', 'admin'] as const) {
        const points = await timelineChart(await principal(subject), {}, 'day');
        const page = await timelinePage(await principal(subject), {}, { limit: 500 });
        expect(page.nextCursor).toBeNull();
        expect(points.reduce((n, p) => n + p.reads + p.writes, 0)).toBe(page.entries.filter((e) => e.access !== null).length);
      }
      const sum = async (subject: Subject) => (await timelineChart(await principal(subject), {}, 'day')).reduce((n, p) => n + p.writes + p.reads, 0);
      expect(await sum('admin')).toBeGreaterThan(await sum('auditor'));
    });

    it('exports the same entries as the timeline shows', async () => {
      const shown = await entriesOf('auditor');
      const exported = JSON.parse((await surfaces['the audit export (JSON)']!('auditor')).body) as TimelineEntry[];
      expect(exported.map((e) => e.key)).toEqual(shown.map((e) => e.key));
    });
  });

  describe('raw CloudTrail events', () => {
    const rawOf = async (subject: Subject, item: string) => {
      const entry = (await timelinePage(await principal(subject), { item }, { limit: 50, withRaw: true })).entries.find((e) => e.source === 'cloudtrail');
      expect(entry, `an event on ${item}`).toBeDefined();
      return entry!.raw as Record<string, unknown> & { requestParameters: Record<string, unknown>; resources?: { ARN: string }[] };
    };

    it('cut secretIdList and resources to the scoped auditor\'s items, the KMS key too', async () => {
      const raw = await rawOf('auditor', '/prod/payments/batch-a');
      expect(raw.requestParameters.secretIdList).toEqual(['prod/payments/batch-a']);
      expect(raw.resources?.map((r) => r.ARN)).toEqual([secretArn('prod/payments/batch-a')]);
      // The caller's identity stays: the timeline shows it anyway.
      expect(raw.userIdentity).toEqual(EVENTS.batch.userIdentity);
    });

    it('cut the resources of an event that maps to one item only', async () => {
      const raw = await rawOf('auditor', '/prod/payments/batch-c');
      expect(raw.resources?.map((r) => r.ARN)).toEqual([secretArn('prod/payments/batch-c')]);
    });

    it('drop filters and the outside entries of a response\'s errors list, and a message quoting an outside ARN', async () => {
      const errors = await rawOf('auditor', '/prod/payments/batch-d');
      expect(errors.requestParameters).toEqual({ secretIdList: ['prod/payments/batch-d'] });
      expect(errors.responseElements).toEqual({ errors: [{ secretId: 'prod/payments/batch-d', errorCode: 'DecryptionFailure', message: 'The key could not decrypt it.' }] });
      const message = await rawOf('auditor', '/prod/payments/batch-e');
      expect(message.errorCode).toBe('AccessDeniedException');
      expect(message).not.toHaveProperty('errorMessage');
    });

    it('give an admin of everything the event as stored', async () => {
      const raw = await rawOf('admin', '/prod/payments/batch-a');
      expect(raw.requestParameters.secretIdList).toEqual(EVENTS.batch.requestParameters!.secretIdList);
      expect(raw.resources).toEqual(EVENTS.batch.resources);
      expect((await rawOf('admin', '/prod/payments/batch-e')).errorMessage).toBe(EVENTS.message.errorMessage);
    });
  });

  describe('/metrics', () => {
    it('answers only METRICS_TOKEN, with every store (a deployment secret, never a dashboard credential)', async () => {
      process.env.METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';
      try {
        const response = await metricsRoute(new Request(url('/metrics'), { headers: { authorization: `Bearer ${process.env.METRICS_TOKEN}` } }));
        expect(response.status).toBe(200);
        const body = await response.text();
        expect(body).toMatch(/^secrets_dashboard_inventory_sync_age_seconds\{store="aws-params"\}/m);
        expect(body).toContain(`/prod/web/${OUTSIDER}-param-0`);
        for (const cookie of [h.cookies.admin, h.cookies.viewer]) {
          expect((await metricsRoute(new Request(url('/metrics'), { headers: { cookie } }))).status).toBe(401);
        }
      } finally {
        delete process.env.METRICS_TOKEN;
      }
    });
  });
});
