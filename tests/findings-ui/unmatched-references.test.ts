import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when first imported, before the harness sets it.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});
vi.mock('next/headers', () => import('../support/next-headers-mock'));
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import FindingsPage from '@/app/(dashboard)/findings/page';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { listUnmatchedReferences } from '@/lib/data/consumer-references';
import type { ConsumerReference } from '@/lib/findings/consumers-db';
import { findingsDb } from '@/lib/findings/findings';
import { sessionJar } from '../support/next-headers-mock';
import { SCOPE, startFindingsHarness, type FindingsHarness } from './harness';

// "References the dashboard could not match" on /findings: what the consumer scan found that names
// no item. A not-found reference names an item of a store, so it is shown to those whose grants
// cover that name; an unresolved one (an account and region no store covers) only to those who may
// audit every path of every store, like the plain-sight workload findings. The scan's own problems
// (a refused call) are shown to those who may audit one of its stores. Rows are written as the scan
// writes them, into the harness's store 'local' (the auditor there is held to /prod/payments/**).

/** Inside the path-limited auditor's grant: a parameter the task definition names but the store lacks. */
const INSIDE_MISSING = `${SCOPE}zz-unmatched-inside-missing-b3n`;
/** Outside their grant: its name must reach no response of theirs. */
const SENTINEL_NOT_FOUND = '/prod/web/zz-unmatched-sentinel-missing-r4t';
/** In an account no store covers: its name must reach nobody but auditors of everything. */
const SENTINEL_UNRESOLVED = '/partner/zz-unmatched-sentinel-token-w8p';
/** Each hidden reference's name and its variable's name. */
const HIDDEN: Record<string, string> = { [SENTINEL_NOT_FOUND]: 'ZZ_HIDDEN_WEB_VAR', [SENTINEL_UNRESOLVED]: 'ZZ_HIDDEN_PARTNER_VAR' };
const SENTINELS = Object.entries(HIDDEN).flat();
const ACCOUNT = '111111111111';
const OTHER_ACCOUNT = '333333333333';
const TASK_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/zz-bridge:4`;
const SCAN_ERROR = `lambda:ListFunctions was refused in ${ACCOUNT} us-east-1 (access denied): allow the dashboard lambda:ListFunctions.`;

const reference = (variable: string, name: string, resolution: 'not-found' | 'unresolved' | 'resolved'): ConsumerReference => ({
  consumerKind: 'ecs-task-definition',
  consumerArn: TASK_ARN,
  consumerName: 'zz-bridge:4',
  container: 'bridge',
  variable,
  service: resolution === 'unresolved' ? 'secretsmanager' : 'ssm',
  account: resolution === 'unresolved' ? OTHER_ACCOUNT : ACCOUNT,
  region: 'us-east-1',
  resolution,
  storeId: resolution === 'unresolved' ? null : 'local',
  itemName: name,
  itemArn: null,
  deletedAt: null,
  seenAt: new Date().toISOString(),
});

const grant = (role: Grant['role'], paths: string[], stores: string[] | null = null): Grant => ({ role, paths, stores });
const who = (email: string, ...grants: Grant[]): Principal => ({ via: 'session', userId: email, email, name: null, role: null, grants });

let h: FindingsHarness;
beforeAll(async () => {
  h = await startFindingsHarness();
  const db = (await findingsDb()).consumers;
  const now = new Date().toISOString();
  const scan = { connectionKey: 'test-connection', region: 'us-east-1', account: ACCOUNT, storeIds: ['local'], attemptedAt: now, scannedAt: now, resources: 1 };
  await db.replaceScan(
    { ...scan, service: 'ecs-task-definition', error: null, complete: true },
    [
      reference('INSIDE_DB_PASSWORD', INSIDE_MISSING, 'not-found'),
      reference('ZZ_HIDDEN_WEB_VAR', SENTINEL_NOT_FOUND, 'not-found'),
      reference('ZZ_HIDDEN_PARTNER_VAR', SENTINEL_UNRESOLVED, 'unresolved'),
      // Matched: not listed as unmatched for anyone.
      reference('MATCHED', `${SCOPE}zz-matched-a1`, 'resolved'),
    ],
    [],
  );
  await db.putScanFailure({ ...scan, service: 'lambda-function', error: SCAN_ERROR });
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(() => {
  sessionJar.cookie = null;
});

describe.each([
  { caller: 'an admin', principal: who('admin@example.com', grant('admin', ['/**'])), names: [INSIDE_MISSING, SENTINEL_NOT_FOUND, SENTINEL_UNRESOLVED], problems: 1 },
  { caller: 'an auditor of everything', principal: who('all@example.com', grant('auditor', ['/**'])), names: [INSIDE_MISSING, SENTINEL_NOT_FOUND, SENTINEL_UNRESOLVED], problems: 1 },
  { caller: 'an auditor of /prod/payments/**', principal: who('payments@example.com', grant('auditor', [`${SCOPE}**`])), names: [INSIDE_MISSING], problems: 1 },
  { caller: 'an auditor of another store', principal: who('other@example.com', grant('auditor', ['/**'], ['elsewhere'])), names: [], problems: 0 },
  { caller: 'a viewer of everything', principal: who('viewer@example.com', grant('viewer', ['/**'])), names: [], problems: 0 },
])('unmatched references for $caller', ({ principal, names, problems }) => {
  it('lists exactly the references their grants cover, and the scan problems of stores they audit', async () => {
    const unmatched = await listUnmatchedReferences(principal);
    expect(unmatched.references.map((r) => r.name).sort()).toEqual([...names].sort());
    expect(unmatched.total).toBe(names.length);
    expect(unmatched.problems.map((p) => p.error)).toEqual(problems ? [SCAN_ERROR] : []);
    const text = JSON.stringify(unmatched);
    // A hidden reference leaves no trace (neither its name nor its variable's); a visible one is there (so this can fail).
    for (const [name, variable] of Object.entries(HIDDEN)) {
      expect(text.includes(name), name).toBe(names.includes(name));
      expect(text.includes(variable), variable).toBe(names.includes(name));
    }
  });
});

describe('the DTO', () => {
  it('says where a reference points and why it matched nothing, with no more than the page shows', async () => {
    const { references } = await listUnmatchedReferences(who('admin@example.com', grant('admin', ['/**'])));
    expect(references.find((r) => r.name === SENTINEL_UNRESOLVED)).toEqual({
      workloadKind: 'ecs-task-definition',
      workload: 'zz-bridge:4',
      workloadArn: TASK_ARN,
      container: 'bridge',
      variable: 'ZZ_HIDDEN_PARTNER_VAR',
      service: 'secretsmanager',
      name: SENTINEL_UNRESOLVED,
      account: OTHER_ACCOUNT,
      region: 'us-east-1',
      resolution: 'unresolved',
      storeId: null,
      seenAt: expect.any(String),
    });
    expect(references.find((r) => r.name === INSIDE_MISSING)).toMatchObject({ resolution: 'not-found', storeId: 'local', account: ACCOUNT });
  });
});

describe('/findings', () => {
  const page = () => FindingsPage({ searchParams: Promise.resolve({}) }).then((node) => renderToStaticMarkup(node));

  it('shows an admin both kinds, with why each matched nothing, and the refused call', async () => {
    sessionJar.cookie = h.cookies.admin;
    const html = await page();
    expect(html).toContain('References the dashboard could not match');
    expect(html.match(/data-testid="unmatched-reference"/g)).toHaveLength(3);
    expect(html).toContain('data-resolution="unresolved"');
    expect(html).toContain(SENTINEL_UNRESOLVED);
    expect(html).toContain(`No configured store for account ${OTHER_ACCOUNT} region us-east-1.`);
    expect(html).toContain(`No such parameter in store`);
    expect(html).toContain('bridge: ZZ_HIDDEN_WEB_VAR');
    expect(html).toContain('data-testid="consumer-scan-problem"');
    expect(html).toContain('allow the dashboard lambda:ListFunctions');
  });

  it('shows the path-limited auditor only the not-found reference inside their grant: no hidden name anywhere in the page', async () => {
    sessionJar.cookie = h.cookies.auditor;
    const html = await page();
    expect(html.match(/data-testid="unmatched-reference"/g)).toHaveLength(1);
    expect(html).toContain(INSIDE_MISSING);
    expect(html).toContain('bridge: INSIDE_DB_PASSWORD');
    expect(html).not.toContain('data-resolution="unresolved"');
    for (const sentinel of SENTINELS) expect(html).not.toContain(sentinel);
    expect(html).toContain('data-testid="consumer-scan-problem"');
  });
});
