import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import type { ConsumerConnection } from '@/lib/consumers/connections';
import { consumerConnections } from '@/lib/consumers/connections';
import { ConsumerScanner, type StoreDirectory } from '@/lib/consumers/consumer-scan';
import type { WorkloadFunction, WorkloadSource, WorkloadTaskDefinition } from '@/lib/consumers/workload-source';
import { evaluateWorkloads } from '@/lib/findings/evaluate-workloads';
import { FindingsDb } from '@/lib/findings/findings-db';
import { WORKLOAD_STORE_ID } from '@/lib/findings/types';
import { StoreError } from '@/lib/stores/errors';
import { makeTempDir } from '../support/temp-dir';

// The consumer scan against a scripted source (the demo suite runs it against the simulator): how
// it resolves what workloads name, what it keeps when AWS refuses, throttles or cannot describe one
// task definition, and that no environment value reaches what it stores.

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const SENTINEL = 'sentinel-Zq8vWm3KpX7yTn2RbL5cHd9F';
const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
const tdArn = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${name}`;

const CONNECTION: ConsumerConnection = {
  key: 'conn-a',
  region: REGION,
  connection: { region: REGION },
  stores: [
    { id: 'params', kind: 'ssm' },
    { id: 'secrets', kind: 'secretsmanager' },
  ],
};

const HELD = new Set(['params /app/db/password', 'params /app/api/url', 'secrets /prod/app/db-credentials']);
const directory: StoreDirectory = { accountOf: async () => ACCOUNT, holds: async (storeId, name) => HELD.has(`${storeId} ${name}`) };

/** A scripted source: its functions and task definitions, and failures to throw per call. */
function source(script: {
  functions?: WorkloadFunction[];
  taskDefinitions?: WorkloadTaskDefinition[];
  fail?: Partial<Record<'listFunctions' | 'listTaskDefinitions' | 'describeTaskDefinition' | 'describeSecret', (arg: string | undefined) => string | null>>;
  deleted?: Record<string, string>;
}): WorkloadSource & { calls: string[] } {
  const calls: string[] = [];
  const maybeFail = (op: keyof NonNullable<typeof script.fail>, arg?: string) => {
    calls.push(`${op} ${arg ?? ''}`.trim());
    const code = script.fail?.[op]?.(arg);
    if (code) throw new StoreError(code as never, 'consumers', `${op} failed (${code})`);
  };
  return {
    calls,
    async listFunctions(marker) {
      maybeFail('listFunctions', marker);
      const all = script.functions ?? [];
      // Two a page, to go through the marker.
      const from = marker ? Number(marker) : 0;
      return { functions: all.slice(from, from + 2), ...(from + 2 < all.length ? { next: String(from + 2) } : {}) };
    },
    async listTaskDefinitions(token) {
      maybeFail('listTaskDefinitions', token);
      return { arns: (script.taskDefinitions ?? []).map((t) => t.arn) };
    },
    async describeTaskDefinition(arn) {
      maybeFail('describeTaskDefinition', arn);
      return script.taskDefinitions!.find((t) => t.arn === arn)!;
    },
    async describeSecret(id) {
      maybeFail('describeSecret', id);
      const deletedAt = script.deleted?.[id];
      return deletedAt ? { name: id, arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`, deletedAt } : null;
    },
  };
}

const FUNCTIONS: WorkloadFunction[] = [
  { arn: fnArn('api'), name: 'api', environment: { DB_PASSWORD_PARAMETER: '/app/db/password', TOKEN: SENTINEL, MODE: 'fast' } },
  { arn: fnArn('worker'), name: 'worker', environment: { DB_SECRET: 'prod/app/db-credentials', CONTENT_TYPE: 'application/json' } },
  { arn: fnArn('old'), name: 'old', environment: { LEGACY_SECRET_ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/app/legacy-AbCdEf`, GONE: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/app/gone` } },
];
const TASKS: WorkloadTaskDefinition[] = [
  { arn: tdArn('api:3'), name: 'api:3', containers: [{ name: 'api', environment: [{ name: 'AWS_SECRET_ACCESS_KEY', value: SENTINEL }], secrets: [{ name: 'DB', valueFrom: '/app/db/password' }] }] },
  { arn: tdArn('batch:1'), name: 'batch:1', containers: [{ name: 'batch', environment: [], secrets: [{ name: 'URL', valueFrom: 'app/api/url' }] }] },
];

describe('the consumer scan', () => {
  const temp = makeTempDir('consumer-scan-');
  let db: FindingsDb;
  beforeAll(async () => {
    db = await FindingsDb.open(temp.dir);
  });
  afterAll(async () => {
    await db.close();
    temp.cleanup();
  });
  beforeEach(async () => {
    await db.consumers.keepConnections([]);
  });

  const scanner = (src: WorkloadSource, retryAfterMs = 600_000) => new ConsumerScanner(db.consumers, () => src, { ratePerSecond: 1000, refreshHours: 6, retryAfterMs });

  it('resolves what functions and task definitions name, keeps a secret scheduled for deletion and an explicit reference to nothing, drops configuration', async () => {
    const src = source({ functions: FUNCTIONS, taskDefinitions: TASKS, deleted: { 'prod/app/legacy': '2026-01-02T00:00:00.000Z' } });
    const outcomes = await scanner(src).runOnce([CONNECTION], directory);
    expect(outcomes.map((o) => [o.service, o.resources, o.error])).toEqual([
      ['lambda-function', 3, null],
      ['ecs-task-definition', 2, null],
    ]);
    const refs = (await db.consumers.referencesIntoStore('params')).concat(await db.consumers.referencesIntoStore('secrets'));
    expect(refs.map((r) => [r.consumerName, r.container, r.variable, r.resolution, r.storeId, r.itemName]).sort()).toEqual(
      [
        ['api', null, 'DB_PASSWORD_PARAMETER', 'resolved', 'params', '/app/db/password'],
        ['worker', null, 'DB_SECRET', 'resolved', 'secrets', '/prod/app/db-credentials'],
        ['old', null, 'LEGACY_SECRET_ARN', 'deleted', 'secrets', '/prod/app/legacy'],
        ['api:3', 'api', 'DB', 'resolved', 'params', '/app/db/password'],
        // A bare name in valueFrom is the task's own parameter, with or without its leading slash.
        ['batch:1', 'batch', 'URL', 'resolved', 'params', '/app/api/url'],
      ].sort(),
    );
    expect((await db.consumers.unresolvedReferences()).map((r) => [r.consumerName, r.variable, r.resolution, r.itemName])).toEqual([['old', 'GONE', 'not-found', '/app/gone']]);
    // 'application/json' and 'fast' name nothing: configuration, not kept.

    const plain = await db.consumers.plainSight();
    expect(plain.map((p) => [p.resourceName, p.container, p.variable, p.detector])).toEqual([
      ['api:3', 'api', 'AWS_SECRET_ACCESS_KEY', 'high-entropy'],
      ['api', null, 'TOKEN', 'high-entropy'],
    ]);
    const stored = JSON.stringify([refs, plain, await db.consumers.scans(), await db.consumers.unresolvedReferences()]);
    expect(stored).not.toContain(SENTINEL);
    const scans = await db.consumers.scans();
    expect(scans.map((s) => [s.service, s.complete, s.error, s.account, s.storeIds])).toEqual([
      ['ecs-task-definition', true, null, ACCOUNT, ['params', 'secrets']],
      ['lambda-function', true, null, ACCOUNT, ['params', 'secrets']],
    ]);
    const state = await db.consumers.forEvaluation('secrets');
    expect(state.scanComplete).toBe(true);
    expect([...state.deleted.keys()]).toEqual(['/prod/app/legacy']);
    expect(state.deleted.get('/prod/app/legacy')!.consumers.map((c) => c.name)).toEqual(['old']);
    expect(state.byItem.get('/prod/app/db-credentials')!.map((c) => [c.kind, c.name, c.via])).toEqual([['lambda-function', 'worker', 'DB_SECRET']]);
  });

  it('notes a task definition it cannot describe and reads the rest, but calls the scan incomplete', async () => {
    const src = source({ taskDefinitions: TASKS, fail: { describeTaskDefinition: (arn) => (arn === tdArn('api:3') ? 'not-found' : null) } });
    const [lambda, ecs] = await scanner(src).runOnce([CONNECTION], directory);
    expect(lambda!.error).toBeNull();
    expect(ecs).toMatchObject({ resources: 1, error: 'A task definition could not be read (ecs:DescribeTaskDefinition): api:3.' });
    expect((await db.consumers.scans()).find((s) => s.service === 'ecs-task-definition')).toMatchObject({ complete: false });
    expect((await db.consumers.forEvaluation('params')).scanComplete).toBe(false);
    expect((await db.consumers.referencesIntoStore('params')).map((r) => r.consumerName)).toEqual(['batch:1']);
  });

  it('keeps the last scan when a listing is refused, says so, and tries again only after the refresh', async () => {
    await scanner(source({ functions: FUNCTIONS, taskDefinitions: TASKS })).runOnce([CONNECTION], directory);
    const refused = source({ functions: FUNCTIONS, taskDefinitions: TASKS, fail: { listFunctions: () => 'access-denied' } });
    const s = scanner(refused);
    const [lambda, ecs] = await s.runOnce([CONNECTION], directory, { force: true });
    expect(lambda!.error).toBe(`lambda:ListFunctions was refused in ${ACCOUNT} ${REGION} (access denied): allow the dashboard lambda:ListFunctions.`);
    expect(ecs!.error).toBeNull();
    // What the functions named is still known, but nothing can be called unreferenced.
    expect((await db.consumers.referencesIntoStore('params')).map((r) => r.consumerName).sort()).toEqual(['api', 'api:3', 'batch:1']);
    expect((await db.consumers.forEvaluation('params')).scanComplete).toBe(false);
    // Due again after FINDINGS_CONSUMER_REFRESH_HOURS, not at once.
    expect(await s.runOnce([CONNECTION], directory)).toEqual([]);
    expect(await s.runOnce([CONNECTION], directory, { now: () => new Date(Date.now() + 7 * 3_600_000) })).toHaveLength(2);
  });

  it('slows down and tries again when throttled; gives up for a while (and comes back soon) when it keeps being throttled', async () => {
    let throttles = 2;
    const passing = source({ functions: FUNCTIONS, fail: { listFunctions: () => (throttles-- > 0 ? 'throttled' : null) } });
    const [lambda] = await scanner(passing).runOnce([CONNECTION], directory);
    expect(lambda).toMatchObject({ error: null, resources: 3 });
    expect(passing.calls.filter((c) => c.startsWith('listFunctions'))).toHaveLength(2 + 2);

    const stuck = source({ functions: FUNCTIONS, fail: { listFunctions: () => 'throttled' } });
    const s = scanner(stuck, 50);
    const [failed] = await s.runOnce([CONNECTION], directory, { force: true });
    expect(failed!.error).toBe(`lambda:ListFunctions was throttled in ${ACCOUNT} ${REGION}; the scan is tried again shortly.`);
    expect(stuck.calls.filter((c) => c.startsWith('listFunctions'))).toHaveLength(4);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await s.runOnce([CONNECTION], directory)).map((o) => o.service)).toEqual(['lambda-function']);
  });

  it('when DescribeSecret is refused, says which store, and still reads everything else', async () => {
    const src = source({ functions: FUNCTIONS, fail: { describeSecret: () => 'access-denied' } });
    const [lambda] = await scanner(src).runOnce([CONNECTION], directory);
    expect(lambda!.error).toContain('secretsmanager:DescribeSecret was refused');
    expect(lambda!.error).toContain('store "secrets"');
    expect((await db.consumers.scans()).find((s) => s.service === 'lambda-function')).toMatchObject({ complete: true });
    // Asked once per run, not per reference.
    expect(src.calls.filter((c) => c.startsWith('describeSecret'))).toHaveLength(1);
  });

  it('stops between calls when told to, writing nothing', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await scanner(source({ functions: FUNCTIONS })).runOnce([CONNECTION], directory, { signal: stop.signal })).toEqual([]);
    expect(await db.consumers.scans()).toEqual([]);
  });
});

describe('consumerConnections', () => {
  it('makes one connection of the stores sharing endpoint, credentials and region, and keeps no credential in its key', () => {
    const connections = consumerConnections([
      { id: 'local', kind: 'local' },
      { id: 'p', kind: 'ssm', region: 'eu-west-1', profile: 'prod', externalId: 'ext-secret-1' },
      { id: 's', kind: 'secretsmanager', region: 'eu-west-1', profile: 'prod', externalId: 'ext-secret-1' },
      { id: 'p2', kind: 'ssm', region: 'us-east-1', profile: 'prod', externalId: 'ext-secret-1' },
    ] as never);
    expect(connections.map((c) => [c.region, c.stores.map((s) => s.id)])).toEqual([
      ['eu-west-1', ['p', 's']],
      ['us-east-1', ['p2']],
    ]);
    for (const c of connections) expect(c.key).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe('evaluateWorkloads', () => {
  it('raises one finding per workload, by its ARN, naming variables and detectors only', () => {
    const seenAt = '2026-06-01T00:00:00.000Z';
    const common = { account: ACCOUNT, region: REGION, seenAt };
    const evaluation = evaluateWorkloads(
      [
        { ...common, resourceKind: 'lambda-function', resourceArn: fnArn('api'), resourceName: 'api', container: null, variable: 'TOKEN', detector: 'github-token' },
        { ...common, resourceKind: 'lambda-function', resourceArn: fnArn('api'), resourceName: 'api', container: null, variable: 'KEY', detector: 'aws-access-key-id' },
        { ...common, resourceKind: 'ecs-task-definition', resourceArn: tdArn('api:3'), resourceName: 'api:3', container: 'api', variable: 'AWS_SECRET_ACCESS_KEY', detector: 'high-entropy' },
      ],
      { now: new Date(seenAt), signature: 'x' },
    );
    expect(evaluation.storeId).toBe(WORKLOAD_STORE_ID);
    expect(evaluation.raised.map((r) => [r.control, r.itemName, r.kind, r.account])).toEqual([
      ['plaintext-in-lambda', fnArn('api'), 'lambda-function', ACCOUNT],
      ['plaintext-in-ecs', tdArn('api:3'), 'ecs-task-definition', ACCOUNT],
    ]);
    expect(evaluation.raised[0]!.evidence).toMatchObject({
      summary: '2 environment variables of Lambda function api look like a secret: TOKEN (github-token), KEY (aws-access-key-id).',
      facts: { resource: 'api', variables: 'TOKEN, KEY', detectors: 'aws-access-key-id, github-token' },
    });
    expect(evaluation.raised[1]!.evidence.summary).toBe('The environment variable api: AWS_SECRET_ACCESS_KEY (high-entropy) of ECS task definition api:3 looks like a secret.');
  });
});
