import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import pg from 'pg';

// The logger reads LOG_LEVEL when it is first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});
// Pages read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import FindingsPage from '@/app/(dashboard)/findings/page';
import ItemPage from '@/app/(dashboard)/items/[store]/[...name]/page';
import { GET as findingsRoute } from '@/app/api/v1/findings/route';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { usedByFor } from '@/lib/data/consumers';
import { createSuppression, getFindingSummary, listFindings, listSuppressions } from '@/lib/data/findings';
import type { ScanOutcome } from '@/lib/consumers/consumer-scan';
import { createConsumerScanner, evaluateFindings, findingsDb, scanConsumers } from '@/lib/findings/findings';
import type { FindingDto } from '@/lib/findings/queries';
import { FINDING_STATUSES, WORKLOAD_STORE_ID, type ControlId } from '@/lib/findings/types';
import { logger } from '@/lib/logger';
import { RequestError } from '@/lib/request-error';
import { DELETED_SECRET, PLANTED_PLAIN_TEXT } from '@/simulator/demo/compute';
import { demoOrganisation, type DemoAccount } from '@/simulator/demo/organisation';
import { serviceRole } from '@/simulator/demo/principals';
import { record } from '@/simulator/demo/records';
import type { LambdaFunctionInput, TaskDefinitionInput } from '@/simulator/simulated-compute';
import type { ParameterInput } from '@/simulator/simulated-aws';
import { cloudTrailLogFile, cloudTrailLogKey } from '@/simulator/simulated-s3';
import { DATABASES } from '../support/databases';
import { openDemoDashboard, recentTrail, type DemoDashboard } from '../support/demo-dashboard';
import { sessionJar } from '../support/next-headers-mock';
import { bearer, credentialsFor } from '../support/subject-credentials';
import { makeTempDir } from '../support/temp-dir';

// Who uses each item and which workloads hold secrets in plain sight, on the demo organisation served
// in-process (tests/support/demo-dashboard.ts) with a few workloads planted in prod: the background
// consumer scan reads its Lambda functions and ECS task definitions through the real SDK clients,
// then the findings are evaluated. A fake access key id made up by this test sits in a Lambda
// environment: it must be found, and appear in no response, log line or database file.

const NOW = Date.now();
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** A made-up AWS access key id (base32 like a real one), different every run. */
const SENTINEL = `AKIA${Array.from({ length: 16 }, () => BASE32[randomInt(32)]).join('')}`;
const OTHER_ACCOUNT = '333333333333';
const PROD = '111111111111';
const OWNER = [{ Key: 'owner', Value: 'ledger-team@example.com' }];

/** A parameter nothing names and nobody reads (unreferenced-and-unread), and one the planted function names. */
const UNREAD = '/legacy/ledger/archive-bucket';
const NAMED = '/legacy/ledger/export-bucket';
const oldParameter = (Name: string): ParameterInput => ({ Name, Type: 'String', Value: `bucket-${Name.length}`, Version: 1, LastModifiedDate: iso(NOW - 300 * DAY), Description: null, Tags: OWNER });

const LEAKY_FUNCTION = 'ledger-sentinel-export';
const leakyFunction: LambdaFunctionInput = {
  FunctionName: LEAKY_FUNCTION,
  LastModified: iso(NOW - 4 * DAY),
  Environment: { Variables: { AWS_ACCESS_KEY_ID: SENTINEL, EXPORT_BUCKET_PARAMETER: NAMED, LOG_LEVEL: 'info' } },
};
/** Names a secret of an account no store covers, and a parameter its own account does not hold. */
const bridgeTask: TaskDefinitionInput = {
  family: 'partner-bridge',
  registeredAt: iso(NOW - 20 * DAY),
  containerDefinitions: [
    {
      name: 'bridge',
      image: `${PROD}.dkr.ecr.us-east-1.amazonaws.com/partner-bridge:prod`,
      secrets: [
        { name: 'PARTNER_TOKEN', valueFrom: `arn:aws:secretsmanager:us-east-1:${OTHER_ACCOUNT}:secret:partner/bridge/token-AbCdEf` },
        { name: 'BRIDGE_DB_PASSWORD', valueFrom: '/legacy/ledger/no-such-parameter' },
      ],
    },
  ],
};

const TRAIL_DAYS_KEPT = 110;

function organisation(): DemoAccount[] {
  const [prod, staging] = demoOrganisation(NOW) as [DemoAccount, DemoAccount];
  return [
    {
      ...prod,
      parameters: [...prod.parameters, oldParameter(UNREAD), oldParameter(NAMED)],
      functions: [...prod.functions!, leakyFunction],
      taskDefinitions: [...prod.taskDefinitions!, bridgeTask],
      trailObjects: recentTrail(prod, NOW, TRAIL_DAYS_KEPT),
    },
    { ...staging, trailObjects: recentTrail(staging, NOW, TRAIL_DAYS_KEPT) },
  ];
}

const grant = (role: Grant['role'], paths: string[], stores: string[] | null = null): Grant => ({ role, paths, stores });
const who = (email: string, ...grants: Grant[]): Principal => ({ via: 'session', userId: email, email, name: null, role: null, grants });
const PRINCIPALS = {
  admin: who('admin@example.com', grant('admin', ['/**'])),
  // Every path of every store: sees workload findings too.
  auditor: who('auditor@example.com', grant('auditor', ['/**'])),
  // One glob of two stores: items only.
  payments: who('payments@example.com', grant('auditor', ['/payments/**', '/prod/payments/**'], ['sim-prod-ssm', 'sim-prod-secrets'])),
  viewer: who('viewer@example.com', grant('viewer', ['/**'])),
};

/** Every log call's arguments, and anything written to stdout or stderr, as text. */
const logged: string[] = [];
function captureLogs(): void {
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
    vi.spyOn(logger, level).mockImplementation(((...args: unknown[]) => {
      logged.push(JSON.stringify(args, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v)));
    }) as never);
  }
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as never);
  }
}

/** Every file under a folder, as raw bytes. */
function filesUnder(dir: string): { file: string; bytes: Buffer }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [{ file, bytes: readFileSync(file) }];
  });
}

/** Every row of every table of the database DATABASE_URL names, as text per table. */
async function postgresTables(): Promise<{ table: string; text: string }[]> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const out: { table: string; text: string }[] = [];
    for (const t of rows) {
      const data = await client.query(`SELECT * FROM "${t.table_schema}"."${t.table_name}"`);
      out.push({ table: `${t.table_schema}.${t.table_name}`, text: JSON.stringify(data.rows) });
    }
    return out;
  } finally {
    await client.end();
  }
}

describe.each(DATABASES)('consumers and secrets in plain sight on the demo organisation (%s)', (database) => {
  const temp = makeTempDir('consumers-demo-');
  let accounts: DemoAccount[];
  let demo: DemoDashboard;
  let firstScan: ScanOutcome[];
  let first: FindingDto[];
  let users: Awaited<ReturnType<typeof credentialsFor<'admin' | 'auditor'>>>;
  const responses: string[] = [];

  const scan = async (options: { rate?: number } = {}) => scanConsumers(createConsumerScanner(await findingsDb(), { ratePerSecond: options.rate ?? 20, refreshHours: 6 }), { force: true });
  const everything = async (principal: Principal = PRINCIPALS.admin) => {
    const rows: FindingDto[] = [];
    let cursor: string | undefined;
    do {
      const page = await listFindings(principal, { statuses: [...FINDING_STATUSES], limit: 1000, ...(cursor ? { cursor } : {}) });
      responses.push(JSON.stringify(page));
      rows.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return rows;
  };
  const open = (rows: FindingDto[], control: ControlId) => rows.filter((f) => f.control === control && f.status === 'open');

  beforeAll(async () => {
    logged.length = 0;
    responses.length = 0;
    captureLogs();
    accounts = organisation();
    demo = await openDemoDashboard({
      dir: temp.dir,
      database,
      accounts,
      now: NOW,
      configure: (config) => {
        // A reviewer held to the payments paths of prod, signed in, for the pages and the API.
        config.grants = [{ user: 'auditor@example.com', role: 'auditor', paths: ['/payments/**', '/prod/payments/**'], stores: ['sim-prod-ssm', 'sim-prod-secrets'] }];
      },
    });
    resetGrantRules();
    // Sessions are signed with it when the app's data is in PostgreSQL.
    process.env.NEXTAUTH_SECRET = randomBytes(32).toString('base64');
    users = await credentialsFor(['admin', 'auditor'] as const, (subject) => (subject === 'admin' ? 'admin' : 'viewer'));
    firstScan = await scan();
    await evaluateFindings({ force: true });
    first = await everything();
  }, 240_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await demo?.close();
    temp.cleanup();
  });

  beforeEach(() => {
    sessionJar.cookie = null;
  });

  it('reads every connection: each service of both accounts, without an error', () => {
    expect(firstScan.map((o) => o.service).sort()).toEqual(['ecs-task-definition', 'ecs-task-definition', 'lambda-function', 'lambda-function']);
    for (const o of firstScan) expect(o.error, `${o.connectionKey} ${o.service}`).toBeNull();
    // prod: 7 functions (6 of the demo and the planted one) and 5 ACTIVE task definitions (the INACTIVE revision is not listed).
    expect(firstScan.map((o) => o.resources).sort((a, b) => a - b)).toEqual([4, 5, 5, 7]);
  });

  it("shows who uses the payments API's database credentials: its ECS task definition, a Lambda function, and its CloudTrail readers", async () => {
    const usedBy = (await usedByFor(PRINCIPALS.payments, 'sim-prod-secrets', '/prod/payments/api/db-credentials'))!;
    responses.push(JSON.stringify(usedBy));
    expect(usedBy.consumers.map((c) => [c.kind, c.name, c.via])).toEqual([
      ['ecs-task-definition', 'payments-api:7', 'container api, secret DB_USERNAME'],
      ['lambda-function', 'payments-api-migrations', 'environment variable DB_SECRET_ARN'],
    ]);
    expect(usedBy.consumers.map((c) => c.arn)).toEqual([
      `arn:aws:ecs:us-east-1:${PROD}:task-definition/payments-api:7`,
      `arn:aws:lambda:us-east-1:${PROD}:function:payments-api-migrations`,
    ]);
    for (const c of usedBy.consumers) expect(Date.now() - Date.parse(c.seenAt)).toBeLessThan(5 * 60_000);
    expect(usedBy.problems).toEqual([]);
    expect(usedBy.scannedAt).not.toBeNull();
    // Read in CloudTrail by the payments API's role, from its address.
    expect(usedBy.readers.length).toBeGreaterThan(0);
    for (const r of usedBy.readers) {
      expect(r.sources.length).toBeGreaterThan(0);
      expect(r.reads).toBe(r.sources.reduce((n, s) => n + s.reads, 0));
    }
    expect(usedBy.readers.map((r) => r.principal)).toContain(`arn:aws:iam::${PROD}:role/payments-api`);

    // A parameter named by the task definition's ARN form; a path-limited reviewer sees it, a viewer and another team do not.
    const parameter = (await usedByFor(PRINCIPALS.payments, 'sim-prod-ssm', '/payments/api/db/password'))!;
    expect(parameter.consumers.map((c) => [c.name, c.via])).toEqual([['payments-api:7', 'container api, secret DB_PASSWORD']]);
    expect(await usedByFor(PRINCIPALS.viewer, 'sim-prod-ssm', '/payments/api/db/password')).toBeNull();
    expect(await usedByFor(PRINCIPALS.payments, 'sim-prod-ssm', '/checkout/cart/db/password')).toBeNull();

    // The item page shows the panel to the signed-in reviewer.
    sessionJar.cookie = users.cookies.auditor;
    const html = renderToStaticMarkup(await ItemPage({ params: Promise.resolve({ store: 'sim-prod-secrets', name: ['prod', 'payments', 'api', 'db-credentials'] }) }));
    responses.push(html);
    expect(html).toContain('data-testid="used-by-panel"');
    expect(html.match(/data-testid="used-by-consumer"/g)).toHaveLength(2);
    expect(html).toContain('payments-api-migrations');
    expect(html).toContain('data-testid="used-by-source"');
  });

  it('resolves a reference to another configured account, and keeps one to an account no store covers as unresolved, with the name it gives', async () => {
    const cross = (await usedByFor(PRINCIPALS.admin, 'sim-staging-ssm', '/platform/ci/signing-key'))!;
    expect(cross.consumers.map((c) => [c.name, c.account, c.region])).toContainEqual(['checkout-cart:3', '222222222222', 'eu-west-1']);
    const unresolved = await (await findingsDb()).consumers.unresolvedReferences();
    const bridge = unresolved.filter((r) => r.consumerName === 'partner-bridge:1');
    expect(bridge.map((r) => [r.variable, r.resolution, r.account, r.region, r.storeId, r.itemName])).toEqual([
      ['BRIDGE_DB_PASSWORD', 'not-found', PROD, 'us-east-1', 'sim-prod-ssm', '/legacy/ledger/no-such-parameter'],
      ['PARTNER_TOKEN', 'unresolved', OTHER_ACCOUNT, 'us-east-1', null, '/partner/bridge/token'],
    ]);
    // The rest of the task definitions of prod were read all the same.
    expect(firstScan.find((o) => o.service === 'ecs-task-definition' && o.resources === 5)?.error).toBeNull();
  });

  it('finds the planted key as plaintext-in-lambda, by function, variable name and detector only; and the demo ones in Lambda and ECS', () => {
    const arn = `arn:aws:lambda:us-east-1:${PROD}:function:${LEAKY_FUNCTION}`;
    const leaky = first.find((f) => f.control === 'plaintext-in-lambda' && f.itemName === arn)!;
    expect(leaky).toMatchObject({ storeId: WORKLOAD_STORE_ID, severity: 'critical', status: 'open', kind: 'lambda-function', arn, account: PROD, href: null });
    expect(leaky.evidence.facts).toMatchObject({ resource: LEAKY_FUNCTION, variables: 'AWS_ACCESS_KEY_ID', detectors: 'aws-access-key-id' });
    expect(leaky.evidence.summary).toContain('AWS_ACCESS_KEY_ID');
    expect(open(first, 'plaintext-in-lambda').map((f) => f.evidence.facts?.resource).sort()).toEqual([LEAKY_FUNCTION, 'platform-github-sync']);
    const ecs = open(first, 'plaintext-in-ecs');
    expect(ecs.map((f) => f.itemName)).toEqual([`arn:aws:ecs:us-east-1:${PROD}:task-definition/identity-auth:2`]);
    expect(ecs[0]!.evidence.facts).toMatchObject({ variables: 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY', detectors: 'aws-access-key-id, high-entropy', containers: 'auth' });
  });

  it("holds an example of each consumer control in the demo's own data, beside this test's plants", () => {
    const plants = new Set([UNREAD, NAMED, `arn:aws:lambda:us-east-1:${PROD}:function:${LEAKY_FUNCTION}`, `arn:aws:ecs:us-east-1:${PROD}:task-definition/${bridgeTask.family}:1`]);
    for (const control of ['unreferenced-and-unread', 'referenced-after-deletion', 'plaintext-in-lambda', 'plaintext-in-ecs'] as const) {
      expect(open(first, control).filter((f) => !plants.has(f.itemName)).length, control).toBeGreaterThan(0);
    }
  });

  it('raises referenced-after-deletion on the secret scheduled for deletion, naming the task definition that still reads it', () => {
    const f = first.find((x) => x.control === 'referenced-after-deletion')!;
    expect(f).toMatchObject({ storeId: 'sim-prod-secrets', itemName: `/${DELETED_SECRET}`, status: 'open', severity: 'high', account: PROD });
    expect(f.evidence.summary).toContain('payments-ledger:1');
    expect(f.evidence.summary).toContain('LEGACY_DB_PASSWORD');
    expect(f.evidence.dates?.deletedAt).toBeTruthy();
    expect(open(first, 'referenced-after-deletion')).toHaveLength(1);
  });

  it('raises unreferenced-and-unread on an unread parameter nothing names, not on the one a function names', () => {
    const unreferenced = open(first, 'unreferenced-and-unread').map((f) => `${f.storeId} ${f.itemName}`);
    expect(unreferenced).toContain(`sim-prod-ssm ${UNREAD}`);
    expect(unreferenced).not.toContain(`sim-prod-ssm ${NAMED}`);
    // Every one of them is unread too, and named by no workload of the scan.
    const unread = new Set(open(first, 'not-read-recently').map((f) => `${f.storeId} ${f.itemName}`));
    for (const item of unreferenced.filter((i) => i.startsWith('sim-prod-ssm ') || i.startsWith('sim-staging-ssm '))) expect(unread.has(item), item).toBe(true);
    const f = open(first, 'unreferenced-and-unread').find((x) => x.itemName === UNREAD)!;
    expect(f.evidence.dates?.lastReadAt).toBeNull();
    expect(f.evidence.dates?.consumersScannedAt).toBeTruthy();
    // Both are unread (not-read-recently); only the one nothing names is unreferenced too.
    expect([...unread]).toEqual(expect.arrayContaining([`sim-prod-ssm ${NAMED}`, `sim-prod-ssm ${UNREAD}`]));
  });

  it('shows plain-sight findings to an admin and an auditor of everything, never to a path-limited reviewer', async () => {
    for (const name of ['admin', 'auditor'] as const) {
      const rows = await everything(PRINCIPALS[name]);
      expect(rows.filter((f) => f.storeId === WORKLOAD_STORE_ID).length, name).toBe(3);
      const summary = await getFindingSummary(PRINCIPALS[name]);
      expect(summary.byControl.find((c) => c.control === 'plaintext-in-lambda')!.open, name).toBe(2);
    }
    const limited = await everything(PRINCIPALS.payments);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.filter((f) => f.storeId === WORKLOAD_STORE_ID)).toEqual([]);
    const summary = await getFindingSummary(PRINCIPALS.payments);
    expect(summary.byControl.filter((c) => c.control.startsWith('plaintext-')).map((c) => c.open + c.suppressed + c.resolved)).toEqual([0, 0]);
    expect(summary.pendingStores).toEqual([]);
    // A store filter leaves workloads out for everyone.
    expect((await listFindings(PRINCIPALS.admin, { storeIds: ['sim-prod-ssm'], limit: 1000 })).items.filter((f) => f.storeId === WORKLOAD_STORE_ID)).toEqual([]);

    // The API and the page, as the signed-in reviewer and as the admin.
    const api = async (query: string, token: string) => {
      const res = await findingsRoute(new Request(`http://dashboard.test/api/v1/findings${query}`, bearer(token)));
      const text = await res.text();
      responses.push(text);
      return { status: res.status, text };
    };
    const reviewer = await api('?control=plaintext-in-lambda,plaintext-in-ecs', users.tokens.auditor);
    expect(reviewer.status).toBe(200);
    expect(JSON.parse(reviewer.text).items).toEqual([]);
    const admin = await api('?control=plaintext-in-lambda,plaintext-in-ecs', users.tokens.admin);
    expect(JSON.parse(admin.text).items).toHaveLength(3);
    for (const format of ['csv', 'asff']) {
      const reviewerExport = await api(`?format=${format}`, users.tokens.auditor);
      expect(reviewerExport.status).toBe(200);
      expect(reviewerExport.text).not.toContain(LEAKY_FUNCTION);
      expect(reviewerExport.text).not.toContain('platform-github-sync');
      const adminExport = await api(`?format=${format}`, users.tokens.admin);
      expect(adminExport.text).toContain(LEAKY_FUNCTION);
    }
    const asff = JSON.parse((await api('?format=asff&control=plaintext-in-lambda', users.tokens.admin)).text) as { Findings: { Resources: { Type: string; Id: string }[] }[] };
    expect(asff.Findings.map((f) => f.Resources[0]!.Type)).toEqual(['AwsLambdaFunction', 'AwsLambdaFunction']);

    sessionJar.cookie = users.cookies.auditor;
    const reviewerPage = renderToStaticMarkup(await FindingsPage({ searchParams: Promise.resolve({ status: 'open,suppressed,resolved' }) }));
    sessionJar.cookie = users.cookies.admin;
    const adminPage = renderToStaticMarkup(await FindingsPage({ searchParams: Promise.resolve({ control: 'plaintext-in-lambda' }) }));
    responses.push(reviewerPage, adminPage);
    expect(reviewerPage).not.toContain(LEAKY_FUNCTION);
    expect(adminPage).toContain(LEAKY_FUNCTION);
    // Named, not linked: a workload is no item.
    expect(adminPage).toContain('data-testid="finding-resource"');
    expect(adminPage).not.toContain('data-testid="finding-item"');
  });

  it('lets an auditor of everything suppress a plain-sight finding, and answers a path-limited reviewer as if there were none', async () => {
    const arn = `arn:aws:lambda:us-east-1:${PROD}:function:platform-github-sync`;
    const input = { storeId: WORKLOAD_STORE_ID, itemName: arn, control: 'plaintext-in-lambda', reason: 'a revoked token kept for the incident write-up', expiresAt: iso(Date.now() + 10 * DAY) };
    await expect(createSuppression(PRINCIPALS.payments, input)).rejects.toMatchObject({ status: 404 });
    const made = await createSuppression(PRINCIPALS.auditor, input);
    expect(made).toMatchObject({ storeId: WORKLOAD_STORE_ID, itemName: arn, active: true });
    const rows = await everything(PRINCIPALS.auditor);
    expect(rows.find((f) => f.itemName === arn)!.status).toBe('suppressed');
    expect((await listSuppressions(PRINCIPALS.payments)).map((s) => s.itemName)).not.toContain(arn);
    expect((await listSuppressions(PRINCIPALS.admin)).map((s) => s.itemName)).toContain(arn);
    // An item name where a workload's ARN belongs, and the other way round, are bad input.
    await expect(createSuppression(PRINCIPALS.admin, { ...input, storeId: 'sim-prod-ssm' })).rejects.toBeInstanceOf(RequestError);
    await expect(createSuppression(PRINCIPALS.admin, { ...input, itemName: '/payments/api/db/password' })).rejects.toBeInstanceOf(RequestError);
  });

  it('keeps the planted key out of every response, log line and database file', async () => {
    // It is there to be found: AWS hands it out (the test's control).
    const lambda = new LambdaClient(demo.sdkConfig('prod'));
    expect(JSON.stringify((await lambda.send(new ListFunctionsCommand({}))).Functions)).toContain(SENTINEL);

    responses.push(JSON.stringify(await getFindingSummary(PRINCIPALS.admin)), JSON.stringify(await listSuppressions(PRINCIPALS.admin)));
    for (const [store, name] of [
      ['sim-prod-ssm', NAMED],
      ['sim-prod-ssm', UNREAD],
      ['sim-prod-secrets', `/${DELETED_SECRET}`],
    ] as const) {
      responses.push(JSON.stringify(await usedByFor(PRINCIPALS.admin, store, name)));
    }
    const db = (await findingsDb()).consumers;
    responses.push(JSON.stringify([await db.plainSight(), await db.unresolvedReferences(), await db.scans()]));
    expect(responses.length).toBeGreaterThan(20);
    for (const text of responses) expect(text).not.toContain(SENTINEL);
    // The finding is in them, by its variable's name.
    expect(responses.some((t) => t.includes(LEAKY_FUNCTION) && t.includes('AWS_ACCESS_KEY_ID'))).toBe(true);

    expect(logged.some((line) => line.includes('consumer scan'))).toBe(true);
    for (const line of logged) expect(line).not.toContain(SENTINEL);

    const files = filesUnder(path.join(temp.dir, 'data'));
    const needle = Buffer.from(SENTINEL, 'utf8');
    for (const { file, bytes } of files) expect(bytes.includes(needle), file).toBe(false);
    if (database === 'postgres') {
      const tables = await postgresTables();
      expect(tables.map((t) => t.table)).toContain('findings.plain_sight');
      for (const t of tables) expect(t.text.includes(SENTINEL), t.table).toBe(false);
    } else {
      expect(files.map((f) => path.basename(f.file))).toEqual(expect.arrayContaining(['findings.db', 'inventory.db', 'audit-events.db']));
    }
  });

  describe('when AWS changes', () => {
    it('a refused ListFunctions is kept as the scan error and shown on the Used by panel, while ECS is still read and the last functions kept', async () => {
      const staging = demo.org.compute('staging');
      staging.control({ deny: ['lambda:ListFunctions'] });
      try {
        const outcomes = await scan();
        const lambda = outcomes.filter((o) => o.service === 'lambda-function');
        const refused = lambda.find((o) => o.error !== null)!;
        expect(refused.error).toBe('lambda:ListFunctions was refused in 222222222222 eu-west-1 (access denied): allow the dashboard lambda:ListFunctions.');
        expect(lambda.filter((o) => o.error === null)).toHaveLength(1);
        for (const o of outcomes.filter((x) => x.service === 'ecs-task-definition')) expect(o).toMatchObject({ error: null });
        expect(outcomes.find((o) => o.service === 'ecs-task-definition' && o.connectionKey === refused.connectionKey)!.resources).toBe(4);

        const usedBy = (await usedByFor(PRINCIPALS.admin, 'sim-staging-secrets', '/staging/payments/api/db-credentials'))!;
        expect(usedBy.problems).toEqual([
          { service: 'lambda-function', headline: 'Lambda functions could not be read', detail: expect.stringContaining('refused in 222222222222 eu-west-1 (access denied)') },
        ]);
        // What the last scan found is kept: the function still shows.
        expect(usedBy.consumers.map((c) => c.name)).toEqual(['payments-api:7', 'payments-api-migrations']);
        sessionJar.cookie = users.cookies.admin;
        const html = renderToStaticMarkup(await ItemPage({ params: Promise.resolve({ store: 'sim-staging-secrets', name: ['staging', 'payments', 'api', 'db-credentials'] }) }));
        expect(html).toContain('data-testid="used-by-problem"');
        expect(html).toContain('Lambda functions could not be read');

        // Nothing is called unreferenced on a connection whose scan failed.
        await evaluateFindings({ force: true });
        const rows = await everything();
        expect(rows.filter((f) => f.control === 'unreferenced-and-unread' && f.storeId.startsWith('sim-staging') && f.status === 'open')).toEqual([]);
      } finally {
        staging.control({ deny: [] });
      }
      const healed = await scan();
      for (const o of healed) expect(o.error).toBeNull();
      expect((await usedByFor(PRINCIPALS.admin, 'sim-staging-secrets', '/staging/payments/api/db-credentials'))!.problems).toEqual([]);
    });

    it('clears referenced-after-deletion when the secret is restored, and unreferenced-and-unread when the parameter is read', async () => {
      const prod = accounts.find((a) => a.alias === 'prod')!;
      // Restored (the console's "cancel deletion"): the same secret without its deletion date.
      demo.org.aws('prod').control({ addSecrets: [{ ...prod.secrets.find((s) => s.Name === DELETED_SECRET)!, DeletedDate: null }] });
      // Someone reads the parameter: a GetParameter in the trail.
      const reader = serviceRole(PROD, 'ledger', 'archiver');
      const event = record(
        { account: PROD, region: 'us-east-1', nextId: (() => { let n = 0; return () => `0000000-test-read-${++n}`; })() },
        { at: Date.now() - 60_000, by: reader, session: 'nightly', eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', readOnly: true, requestParameters: { name: UNREAD, withDecryption: false } },
      );
      const someKey = prod.trailObjects[0]!.key;
      const prefix = someKey.slice(0, someKey.indexOf('AWSLogs/')).replace(/\/+$/, '');
      demo.org.s3.put({ bucket: prod.trailBucket, key: cloudTrailLogKey({ prefix, account: PROD, region: 'us-east-1', time: new Date() }), body: cloudTrailLogFile([event]) });

      await demo.walkAll();
      const indexed = await demo.indexTrail();
      expect([...indexed.values()].reduce((n, r) => n + r.inserted, 0)).toBe(1);
      await scan();
      const second = new Date();
      await evaluateFindings({ force: true, now: second });
      const rows = await everything();
      const at = (storeId: string, itemName: string, control: ControlId) => rows.find((f) => f.storeId === storeId && f.itemName === itemName && f.control === control);
      expect(at('sim-prod-secrets', `/${DELETED_SECRET}`, 'referenced-after-deletion')).toMatchObject({ status: 'resolved', resolvedAt: second.toISOString() });
      expect(at('sim-prod-ssm', UNREAD, 'unreferenced-and-unread')).toMatchObject({ status: 'resolved', resolvedAt: second.toISOString() });
      // The restored secret is an item again, and its Used by panel names the task definition.
      expect((await usedByFor(PRINCIPALS.admin, 'sim-prod-secrets', `/${DELETED_SECRET}`))!.consumers.map((c) => c.name)).toEqual(['payments-ledger:1']);
      const readers = (await usedByFor(PRINCIPALS.admin, 'sim-prod-ssm', UNREAD))!.readers;
      expect(readers.map((r) => [r.principal, r.reads])).toEqual([[`arn:aws:iam::${PROD}:role/ledger-archiver`, 1]]);
    });

    it('reads at most its configured rate per connection (the simulator counts every operation per second)', async () => {
      const prodCompute = demo.org.compute('prod');
      const prodAws = demo.org.aws('prod');
      prodCompute.resetStats();
      prodAws.resetStats();
      const started = performance.now();
      const outcomes = await scan({ rate: 3 });
      const elapsed = performance.now() - started;
      expect(outcomes).toHaveLength(4);
      const compute = prodCompute.stats();
      const calls = Object.values(compute.operations).reduce((n, o) => n + o.calls, 0);
      // ListFunctions, ListTaskDefinitions and one DescribeTaskDefinition for each of the 5.
      expect(calls).toBe(7);
      for (const [operation, o] of Object.entries(compute.operations)) expect(o.maxCallsPerSecond, operation).toBeLessThanOrEqual(3);
      for (const [operation, o] of Object.entries(prodAws.stats().operations)) expect(o.maxCallsPerSecond, operation).toBeLessThanOrEqual(3);
      // Two connections one after the other: prod's 7 calls at 3 a second take 2 seconds at the least.
      expect(elapsed).toBeGreaterThan(1_900);
    }, 60_000);

    // Last: it changes what the scan reads.
    it('clears plaintext-in-lambda when the key leaves the environment, and plaintext-in-ecs when the task definition is deregistered', async () => {
      const lambdaArn = `arn:aws:lambda:us-east-1:${PROD}:function:${LEAKY_FUNCTION}`;
      const taskArn = `arn:aws:ecs:us-east-1:${PROD}:task-definition/identity-auth:2`;
      const before = await everything();
      expect(before.find((f) => f.itemName === lambdaArn && f.control === 'plaintext-in-lambda')).toMatchObject({ status: 'open' });
      expect(before.find((f) => f.itemName === taskArn && f.control === 'plaintext-in-ecs')).toMatchObject({ status: 'open' });
      // The key moved to Secrets Manager (UpdateFunctionConfiguration), the task definition's revision deregistered.
      demo.org.compute('prod').control({
        putFunctions: [{ ...leakyFunction, Environment: { Variables: { EXPORT_BUCKET_PARAMETER: NAMED, LOG_LEVEL: 'info' } } }],
        deregister: [taskArn],
      });
      for (const o of await scan()) expect(o.error).toBeNull();
      const later = new Date();
      await evaluateFindings({ force: true, now: later });
      const rows = await everything();
      const at = (itemName: string, control: ControlId) => rows.find((f) => f.storeId === WORKLOAD_STORE_ID && f.itemName === itemName && f.control === control);
      expect(at(lambdaArn, 'plaintext-in-lambda')).toMatchObject({ status: 'resolved', resolvedAt: later.toISOString() });
      expect(at(taskArn, 'plaintext-in-ecs')).toMatchObject({ status: 'resolved', resolvedAt: later.toISOString() });
      // The demo's other function with a key in plain sight is still raised (suppressed by an earlier test).
      expect(rows.filter((f) => f.control === 'plaintext-in-lambda' && f.status !== 'resolved').map((f) => f.evidence.facts?.resource)).toEqual(['platform-github-sync']);
    });
  });
});
