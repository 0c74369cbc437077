import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DescribeTaskDefinitionCommand, ECSClient, ListTaskDefinitionsCommand, paginateListTaskDefinitions } from '@aws-sdk/client-ecs';
import { LambdaClient, ListFunctionsCommand, paginateListFunctions } from '@aws-sdk/client-lambda';
import { isThrottlingError } from '@smithy/core/retry';
import { startSimulatedCompute, type LambdaFunctionInput, type SimulatedCompute, type TaskDefinitionInput } from '@/simulator/simulated-compute';
import { startSimulatedOrganisation, type SimulatedOrganisation } from '@/simulator/simulated-organisation';

// The simulated ECS task definitions and Lambda functions through the real SDK v3 clients: paging
// as AWS pages, a throttled call answered as each service answers it (and retried by the SDK), a
// refused caller, an unknown task definition; and the organisation routing both by the caller's key.

const ACCOUNT = '333333333333';
const REGION = 'ap-southeast-2';
const credentials = { accessKeyId: 'AKIDCOMPUTETEST', secretAccessKey: 'compute-test-secret' };

const taskDefinitions: TaskDefinitionInput[] = [
  ...Array.from({ length: 120 }, (_, i) => ({
    family: `svc-${String(i).padStart(3, '0')}`,
    containerDefinitions: [{ name: 'app', image: 'example/app:1', environment: [{ name: 'LOG_LEVEL', value: 'info' }], secrets: [{ name: 'DB_PASSWORD', valueFrom: `/svc/${i}/db/password` }] }],
  })),
  // Three revisions of one family: the newest ACTIVE one is what the family names.
  { family: 'web', revision: 1, status: 'INACTIVE', containerDefinitions: [{ name: 'web', image: 'example/web:1' }] },
  { family: 'web', revision: 2, containerDefinitions: [{ name: 'web', image: 'example/web:2', secrets: [{ name: 'TOKEN', valueFrom: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:web/token-AbCdEf:token::` }] }] },
  { family: 'web', revision: 3, status: 'INACTIVE', containerDefinitions: [{ name: 'web', image: 'example/web:3' }] },
];
const functions: LambdaFunctionInput[] = Array.from({ length: 75 }, (_, i) => ({
  FunctionName: `fn-${String(i).padStart(3, '0')}`,
  Environment: { Variables: { SECRET_ID: `app/fn-${i}` } },
  ...(i % 10 === 0 ? { Layers: [`arn:aws:lambda:${REGION}:665172237481:layer:AWS-Parameters-and-Secrets-Lambda-Extension:11`] } : {}),
}));

let sim: SimulatedCompute;
const ecs = (maxAttempts = 1, endpoint = sim.url) => new ECSClient({ endpoint, region: REGION, credentials, maxAttempts });
const lambda = (maxAttempts = 1, endpoint = sim.url) => new LambdaClient({ endpoint, region: REGION, credentials, maxAttempts });
const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected a rejection');
};

beforeAll(async () => {
  sim = await startSimulatedCompute({ account: ACCOUNT, region: REGION, latencyMs: 0, taskDefinitions, functions, now: Date.parse('2026-03-01T12:00:00Z') });
});
afterAll(() => sim.close());
beforeEach(() => sim.control({ deny: [], failAll: null, quotas: { 'ecs:ListTaskDefinitions': 20, 'ecs:DescribeTaskDefinition': 20, 'lambda:ListFunctions': 15 }, resetStats: true }));

describe('ECS task definitions', () => {
  it('lists the ACTIVE revisions once each, in family order, page by page; INACTIVE ones only when asked', async () => {
    const pages: string[][] = [];
    for await (const page of paginateListTaskDefinitions({ client: ecs(), pageSize: 50 }, {})) pages.push(page.taskDefinitionArns ?? []);
    expect(pages.map((p) => p.length)).toEqual([50, 50, 21]);
    const arns = pages.flat();
    expect(arns[0]).toBe(`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/svc-000:1`);
    expect(arns.at(-1)).toBe(`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:2`);
    expect(new Set(arns).size).toBe(121);
    const inactive = await ecs().send(new ListTaskDefinitionsCommand({ status: 'INACTIVE', familyPrefix: 'web', sort: 'DESC' }));
    expect(inactive.taskDefinitionArns?.map((a) => a.split('/')[1])).toEqual(['web:3', 'web:1']);
    expect((await rejection(ecs().send(new ListTaskDefinitionsCommand({ maxResults: 101 })))).name).toBe('InvalidParameterException');
    expect((await rejection(ecs().send(new ListTaskDefinitionsCommand({ nextToken: 'not-a-token' })))).name).toBe('InvalidParameterException');
  });

  it('describes a revision by family, family:revision or ARN, with its secrets and environment as registered', async () => {
    const byFamily = (await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))).taskDefinition!;
    expect(byFamily).toMatchObject({ family: 'web', revision: 2, status: 'ACTIVE' });
    expect(byFamily.containerDefinitions![0]!.secrets).toEqual([{ name: 'TOKEN', valueFrom: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:web/token-AbCdEf:token::` }]);
    const inactive = (await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:3' }))).taskDefinition!;
    expect(inactive.status).toBe('INACTIVE');
    const byArn = await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/svc-007:1`, include: ['TAGS'] }));
    expect(byArn.taskDefinition!.containerDefinitions![0]).toMatchObject({ environment: [{ name: 'LOG_LEVEL', value: 'info' }], secrets: [{ name: 'DB_PASSWORD', valueFrom: '/svc/7/db/password' }] });
    expect(byArn.taskDefinition!.registeredAt).toEqual(new Date('2026-03-01T12:00:00Z'));
    expect(byArn.tags).toEqual([]);
  });

  it('answers an unknown task definition, or one of another account, with ClientException as ECS does', async () => {
    for (const taskDefinition of ['nope', 'web:9', `arn:aws:ecs:${REGION}:444444444444:task-definition/web:2`]) {
      const error = await rejection(ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition })));
      expect(error.name).toBe('ClientException');
      expect(error.message).toBe('Unable to describe task definition.');
      expect(error.$metadata.httpStatusCode).toBe(400);
    }
  });
});

describe('Lambda functions', () => {
  it('lists every function once, at most 50 a page, with its environment and layers', async () => {
    const pages: string[][] = [];
    for await (const page of paginateListFunctions({ client: lambda() }, {})) pages.push((page.Functions ?? []).map((f) => f.FunctionName!));
    expect(pages.map((p) => p.length)).toEqual([50, 25]);
    expect(new Set(pages.flat()).size).toBe(75);
    const small = await lambda().send(new ListFunctionsCommand({ MaxItems: 10 }));
    expect(small.Functions).toHaveLength(10);
    expect(small.NextMarker).toBeDefined();
    const first = small.Functions![0]!;
    expect(first).toMatchObject({
      FunctionName: 'fn-000',
      FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fn-000`,
      Role: `arn:aws:iam::${ACCOUNT}:role/fn-000-role`,
      Runtime: 'nodejs20.x',
      LastModified: '2026-03-01T12:00:00.000+0000',
      Environment: { Variables: { SECRET_ID: 'app/fn-0' } },
      Layers: [{ Arn: `arn:aws:lambda:${REGION}:665172237481:layer:AWS-Parameters-and-Secrets-Lambda-Extension:11` }],
    });
    expect(small.Functions![1]!.Layers).toBeUndefined();
    expect((await rejection(lambda().send(new ListFunctionsCommand({ Marker: 'bogus' })))).name).toBe('InvalidParameterValueException');
  });
});

describe('quotas, refusals and failures', () => {
  it('answers a call over the rate as each service does (ECS ThrottlingException 400, Lambda TooManyRequestsException 429), and the SDK retries it', async () => {
    sim.control({ quotas: { 'ecs:ListTaskDefinitions': 2, 'lambda:ListFunctions': 2 } });
    const ecsErrors = await Promise.all(Array.from({ length: 4 }, () => ecs().send(new ListTaskDefinitionsCommand({})).then(() => null, (e: Error) => e)));
    const ecsThrottled = ecsErrors.filter((e) => e !== null);
    expect(ecsThrottled.length).toBeGreaterThanOrEqual(1);
    expect(ecsThrottled.every((e) => e!.name === 'ThrottlingException' && isThrottlingError(e as never))).toBe(true);
    const lambdaErrors = await Promise.all(Array.from({ length: 4 }, () => lambda().send(new ListFunctionsCommand({})).then(() => null, (e: Error) => e)));
    const lambdaThrottled = lambdaErrors.filter((e) => e !== null) as (Error & { $metadata: { httpStatusCode?: number } })[];
    expect(lambdaThrottled.length).toBeGreaterThanOrEqual(1);
    expect(lambdaThrottled.every((e) => e.name === 'TooManyRequestsException' && e.$metadata.httpStatusCode === 429 && isThrottlingError(e as never))).toBe(true);

    // With retries, a burst over the rate gets through, later.
    sim.control({ resetStats: true });
    const retried = await Promise.all(Array.from({ length: 5 }, () => lambda(10).send(new ListFunctionsCommand({ MaxItems: 1 }))));
    expect(retried.every((out) => out.Functions?.length === 1)).toBe(true);
    const stats = sim.stats().operations['lambda:ListFunctions']!;
    expect(stats.ok).toBe(5);
    expect(stats.throttled).toBeGreaterThan(0);
    // A bucket of 2 a second admits its burst and what refills within the window.
    expect(stats.maxAcceptedPerSecond).toBeLessThanOrEqual(4);
  });

  it('refuses a denied caller as AWS words it (ECS AccessDeniedException 400, Lambda 403), and only the operations denied', async () => {
    sim.control({ deny: ['lambda:ListFunctions', 'ecs:DescribeTaskDefinition'] });
    const lambdaDenied = await rejection(lambda().send(new ListFunctionsCommand({})));
    expect(lambdaDenied.name).toBe('AccessDeniedException');
    expect(lambdaDenied.$metadata.httpStatusCode).toBe(403);
    expect(lambdaDenied.message).toMatch(/is not authorized to perform: lambda:ListFunctions on resource: \* because no identity-based policy allows the lambda:ListFunctions action/);
    const ecsDenied = await rejection(ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' })));
    expect(ecsDenied.name).toBe('AccessDeniedException');
    expect(ecsDenied.$metadata.httpStatusCode).toBe(400);
    expect((await ecs().send(new ListTaskDefinitionsCommand({ maxResults: 1 }))).taskDefinitionArns).toHaveLength(1);
    sim.control({ deny: [] });
    expect((await lambda().send(new ListFunctionsCommand({ MaxItems: 1 }))).Functions).toHaveLength(1);
    const stats = sim.stats().operations;
    expect(stats['lambda:ListFunctions']).toMatchObject({ calls: 2, ok: 1, errors: 1, errorTypes: { AccessDeniedException: 1 } });
    expect(stats['ecs:DescribeTaskDefinition']).toMatchObject({ calls: 1, errors: 1 });
    expect(stats['ecs:ListTaskDefinitions']).toMatchObject({ calls: 1, ok: 1 });
  });

  it('fails calls sent to /fail/<failure> as the simulated AWS does, and failAll fails every call', async () => {
    expect((await rejection(lambda(1, `${sim.url}/fail/access-denied`).send(new ListFunctionsCommand({})))).name).toBe('AccessDeniedException');
    expect((await rejection(ecs(1, `${sim.url}/fail/expired-token`).send(new ListTaskDefinitionsCommand({})))).name).toBe('ExpiredTokenException');
    const unsigned = await fetch(`${sim.url}/2015-03-31/functions/`);
    expect(unsigned.status).toBe(403);
    sim.control({ failAll: 'ServiceException' });
    const failed = await rejection(lambda().send(new ListFunctionsCommand({})));
    expect(failed.$metadata.httpStatusCode).toBe(500);
    expect((await fetch(`${sim.url}/__control`, { method: 'POST', body: JSON.stringify({ deny: ['ecs:RunTask'] }) })).status).toBe(400);
    expect(await (await fetch(`${sim.url}/__health`)).json()).toEqual({ status: 'ok', account: ACCOUNT, region: REGION, taskDefinitions: 123, functions: 75 });
  });
});

describe('in the organisation', () => {
  let org: SimulatedOrganisation;
  const key = { accessKeyId: 'compute-org-key', secretAccessKey: 'x' };
  beforeAll(async () => {
    org = await startSimulatedOrganisation({
      latencyMs: 0,
      recordCalls: false,
      trailDeliveryMs: null,
      accounts: [
        {
          account: ACCOUNT,
          alias: 'sandbox',
          region: REGION,
          ...key,
          principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/secrets-dashboard/dashboard`,
          parameters: [],
          secrets: [],
          events: [],
          trailBucket: 'sandbox-trail-bucket',
          trailObjects: [],
          taskDefinitions: taskDefinitions.slice(-3),
          functions: functions.slice(0, 3),
        },
      ],
    });
  });
  afterAll(() => org.close());

  it('routes ECS by X-Amz-Target and Lambda by the credential scope to the key’s account; an unknown key is refused', async () => {
    const orgEcs = new ECSClient({ endpoint: org.url, region: REGION, credentials: key, maxAttempts: 1 });
    const orgLambda = new LambdaClient({ endpoint: org.url, region: REGION, credentials: key, maxAttempts: 1 });
    expect((await orgEcs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns).toEqual([`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:2`]);
    expect((await orgLambda.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName)).toEqual(['fn-000', 'fn-001', 'fn-002']);
    // Another region of the account exists and is empty, as on AWS.
    const elsewhere = new LambdaClient({ endpoint: org.url, region: 'us-west-2', credentials: key, maxAttempts: 1 });
    expect((await elsewhere.send(new ListFunctionsCommand({}))).Functions).toEqual([]);
    const stranger = new LambdaClient({ endpoint: org.url, region: REGION, credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' }, maxAttempts: 1 });
    const refused = await rejection(stranger.send(new ListFunctionsCommand({})));
    expect(refused.name).toBe('UnrecognizedClientException');
    expect(refused.$metadata.httpStatusCode).toBe(403);

    await fetch(`${org.url}/__control`, { method: 'POST', body: JSON.stringify({ account: 'sandbox', compute: { deny: ['ecs:ListTaskDefinitions'] } }) });
    const denied = await rejection(orgEcs.send(new ListTaskDefinitionsCommand({})));
    expect(denied.message).toContain(`User: arn:aws:sts::${ACCOUNT}:assumed-role/secrets-dashboard/dashboard is not authorized to perform: ecs:ListTaskDefinitions`);
    const stats = (await (await fetch(`${org.url}/__stats`)).json()) as { compute: Record<string, { operations: Record<string, { calls: number }> }> };
    expect(stats.compute[`sandbox/${REGION}`]!.operations['ecs:ListTaskDefinitions']!.calls).toBe(2);
  });
});
