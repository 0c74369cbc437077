import { describe, expect, it } from 'vitest';
import { eventIdOf, guardRecord } from '@/lib/cloudtrail/event-guard';
import { isReadEvent, mapRecord, pickStore, secretRef, ssmParameterRef, type MappedItem } from '@/lib/cloudtrail/event-mapping';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';

// From CloudTrail records (API-reference shapes) to items of stores: every event kind the issue
// names, odd and missing fields kept with nulls, and the value guard.

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const STORES: StoreLocator[] = [
  { storeId: 'prod-params', kind: 'ssm', region: 'eu-west-1', account: ACCOUNT },
  { storeId: 'other-params', kind: 'ssm', region: 'eu-west-1', account: OTHER },
  { storeId: 'us-params', kind: 'ssm', region: 'us-east-1', account: null },
  { storeId: 'prod-secrets', kind: 'secretsmanager', region: 'eu-west-1', account: ACCOUNT },
];
const CONTEXT = { account: ACCOUNT, region: 'eu-west-1', ingestedAt: '2026-03-01T00:00:00.000Z' };

function record(eventSource: string, eventName: string, requestParameters: Record<string, unknown> | null, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    eventID: `id-${eventName}`,
    eventTime: '2026-02-20T10:11:12Z',
    eventSource,
    eventName,
    awsRegion: 'eu-west-1',
    recipientAccountId: ACCOUNT,
    sourceIPAddress: '203.0.113.7',
    userAgent: 'aws-cli/2.15',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT },
    requestParameters,
    responseElements: null,
    ...extra,
  };
}

const ssm = (name: string, params: Record<string, unknown> | null, extra?: Partial<CloudTrailRecord>) => record('ssm.amazonaws.com', name, params, extra);
const sm = (name: string, params: Record<string, unknown> | null, extra?: Partial<CloudTrailRecord>) => record('secretsmanager.amazonaws.com', name, params, extra);
const kms = (name: string, params: Record<string, unknown> | null, extra?: Partial<CloudTrailRecord>) => record('kms.amazonaws.com', name, params, extra);
const item = (storeId: string | null, itemName: string, recursive: boolean | null = null): MappedItem => ({ storeId, itemName, recursive });
const versionOf = (storeId: string, itemName: string, version: MappedItem['version']): MappedItem => ({ storeId, itemName, recursive: null, version });

describe.each<[string, CloudTrailRecord, MappedItem[]]>([
  // Parameter Store
  ['GetParameter by name', ssm('GetParameter', { name: '/prod/db/password', withDecryption: true }), [item('prod-params', '/prod/db/password')]],
  ['GetParameter without a leading slash', ssm('GetParameter', { name: 'legacy-token' }), [item('prod-params', '/legacy-token')]],
  ['GetParameter with a version selector', ssm('GetParameter', { name: '/prod/db/password:3' }), [versionOf('prod-params', '/prod/db/password', 'version:3')]],
  ['GetParameter with a label selector', ssm('GetParameter', { name: 'prod/db:live' }), [versionOf('prod-params', '/prod/db', 'label:live')]],
  [
    'GetParameter by ARN with a version selector',
    ssm('GetParameter', { name: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/prod/db:12` }),
    [versionOf('prod-params', '/prod/db', 'version:12')],
  ],
  ['GetParameter by ARN', ssm('GetParameter', { name: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/prod/db/password` }), [item('prod-params', '/prod/db/password')]],
  ['GetParameter by ARN of a name without a slash', ssm('GetParameter', { name: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/legacy-token` }), [item('prod-params', '/legacy-token')]],
  ['GetParameter by ARN in another account picks that account\'s store', ssm('GetParameter', { name: `arn:aws:ssm:eu-west-1:${OTHER}:parameter/x` }), [item('other-params', '/x')]],
  [
    'GetParameters: one item per name, duplicates once',
    ssm('GetParameters', { names: ['/prod/a', 'prod/b', '/prod/a', '/prod/c:2'], withDecryption: true }),
    [item('prod-params', '/prod/a'), item('prod-params', '/prod/b'), versionOf('prod-params', '/prod/c', 'version:2')],
  ],
  ['GetParametersByPath recursive maps to the folder', ssm('GetParametersByPath', { path: '/prod/payments', recursive: true }), [item('prod-params', '/prod/payments/', true)]],
  ['GetParametersByPath one level', ssm('GetParametersByPath', { path: '/prod/', recursive: false }), [item('prod-params', '/prod/', false)]],
  ['GetParametersByPath of the root', ssm('GetParametersByPath', { path: '/' }), [item('prod-params', '/', false)]],
  ['GetParameterHistory', ssm('GetParameterHistory', { name: '/prod/db/password' }), [item('prod-params', '/prod/db/password')]],
  ['PutParameter', ssm('PutParameter', { name: '/prod/new', type: 'SecureString', overwrite: true }), [item('prod-params', '/prod/new')]],
  ['DeleteParameter', ssm('DeleteParameter', { name: '/prod/old' }), [item('prod-params', '/prod/old')]],
  ['DeleteParameters', ssm('DeleteParameters', { names: ['/prod/x', '/prod/y'] }), [item('prod-params', '/prod/x'), item('prod-params', '/prod/y')]],
  ['AddTagsToResource on a parameter', ssm('AddTagsToResource', { resourceType: 'Parameter', resourceId: 'prod/tagged', tags: [] }), [item('prod-params', '/prod/tagged')]],
  ['AddTagsToResource on something else', ssm('AddTagsToResource', { resourceType: 'Document', resourceId: 'doc' }), []],
  ['DescribeParameters names no item', ssm('DescribeParameters', { maxResults: 50 }), []],
  ['a region with no store', ssm('GetParameter', { name: '/x' }, { awsRegion: 'ap-south-1' }), [item(null, '/x')]],
  ['a store with an unknown account matches any account', ssm('GetParameter', { name: '/x' }, { awsRegion: 'us-east-1', recipientAccountId: OTHER }), [item('us-params', '/x')]],
  ['an account no store has', ssm('GetParameter', { name: '/x' }, { recipientAccountId: '999999999999' }), [item(null, '/x')]],
  // Secrets Manager
  ['GetSecretValue by name', sm('GetSecretValue', { secretId: 'prod/db' }), [item('prod-secrets', '/prod/db')]],
  ['GetSecretValue by a name with a slash', sm('GetSecretValue', { secretId: '/prod/db' }), [item('prod-secrets', '/prod/db')]],
  ['GetSecretValue of a staging label', sm('GetSecretValue', { secretId: 'prod/db', versionStage: 'AWSPREVIOUS' }), [versionOf('prod-secrets', '/prod/db', 'label:AWSPREVIOUS')]],
  [
    'GetSecretValue of a version id (which wins over a stage)',
    sm('GetSecretValue', { secretId: 'prod/db', versionId: 'b1c2-old', versionStage: 'AWSPREVIOUS' }),
    [versionOf('prod-secrets', '/prod/db', 'version:b1c2-old')],
  ],
  ['UpdateSecretVersionStage names a stage, but reads no version', sm('UpdateSecretVersionStage', { secretId: 'prod/db', versionStage: 'AWSCURRENT', moveToVersionId: 'v2' }), [item('prod-secrets', '/prod/db')]],
  ['GetSecretValue by ARN: the random suffix is stripped', sm('GetSecretValue', { secretId: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/db-a1B2c3` }), [item('prod-secrets', '/prod/db')]],
  [
    'a name ending like a suffix is kept when it is not an ARN',
    sm('DescribeSecret', { secretId: 'prod/api-key-abcdef' }),
    [item('prod-secrets', '/prod/api-key-abcdef')],
  ],
  [
    'BatchGetSecretValue: one item per secret',
    sm('BatchGetSecretValue', { secretIdList: ['prod/a', `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/b-XyZ123`] }),
    [item('prod-secrets', '/prod/a'), item('prod-secrets', '/prod/b')],
  ],
  ['BatchGetSecretValue by filters names no item', sm('BatchGetSecretValue', { filters: [{ key: 'name', values: ['prod'] }] }), []],
  ['CreateSecret names the new secret', sm('CreateSecret', { name: 'prod/new', description: 'd' }), [item('prod-secrets', '/prod/new')]],
  ['PutSecretValue', sm('PutSecretValue', { secretId: 'prod/db', clientRequestToken: 't' }), [item('prod-secrets', '/prod/db')]],
  ['DeleteSecret', sm('DeleteSecret', { secretId: 'prod/db', recoveryWindowInDays: 7 }), [item('prod-secrets', '/prod/db')]],
  ['ListSecrets names no item', sm('ListSecrets', { maxResults: 100 }), []],
  // KMS
  [
    'Decrypt of a SecureString parameter',
    kms('Decrypt', { encryptionContext: { PARAMETER_ARN: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/prod/db/password` }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
    [item('prod-params', '/prod/db/password')],
  ],
  [
    'Decrypt of a secret',
    kms('Decrypt', { encryptionContext: { SecretARN: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/db-a1B2c3`, SecretVersionId: 'v1' } }),
    [item('prod-secrets', '/prod/db')],
  ],
  [
    'GenerateDataKey for a secret',
    kms('GenerateDataKey', { keyId: 'alias/aws/secretsmanager', encryptionContext: { SecretARN: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/new-Qw3rTy` } }),
    [item('prod-secrets', '/prod/new')],
  ],
  ['Decrypt without an encryption context', kms('Decrypt', { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }), []],
  [
    'an event without request parameters falls back to resources',
    kms('Decrypt', null, { resources: [{ ARN: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abc` }, { ARN: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/prod/r` }] }),
    [item('prod-params', '/prod/r')],
  ],
])('%s', (_label, input, expected) => {
  it('maps to the items it touched', () => {
    expect(mapRecord(input, CONTEXT, STORES).items).toEqual(expected);
  });
});

describe.each<[string, CloudTrailRecord]>([
  ['no requestParameters at all', { eventID: 'e1', eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter' }],
  ['requestParameters of the wrong type', ssm('GetParameter', 'nope' as unknown as Record<string, unknown>)],
  ['a name that is a number', ssm('GetParameter', { name: 42 })],
  ['names that is not a list', ssm('GetParameters', { names: '/a' })],
  ['an empty name', ssm('GetParameter', { name: '' })],
  ['an ARN of another service as secretId', sm('GetSecretValue', { secretId: 'arn:aws:s3:::bucket' })],
  ['a malformed ARN', sm('GetSecretValue', { secretId: 'arn:broken' })],
  ['an unknown event source', record('s3.amazonaws.com', 'GetObject', { bucketName: 'b' })],
  ['a userIdentity that is a string', { ...ssm('GetParameter', { name: '/a' }), userIdentity: 'root' as never }],
])('an odd event: %s', (_label, input) => {
  it('is kept, with nulls where fields are missing', () => {
    const mapped = mapRecord(input, CONTEXT, STORES);
    expect(mapped.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Array.isArray(mapped.items)).toBe(true);
    expect(typeof mapped.readOnly).toBe('boolean');
  });
});

describe('event columns', () => {
  it('takes who, from where and the outcome from the record', () => {
    const mapped = mapRecord(
      sm('GetSecretValue', { secretId: 'prod/db' }, {
        errorCode: 'AccessDenied',
        userIdentity: {
          type: 'AssumedRole',
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/i-0abc`,
          sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/deploy` } },
        },
      }),
      CONTEXT,
      STORES,
    );
    expect(mapped).toMatchObject({
      time: '2026-02-20T10:11:12.000Z',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      actorArn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/i-0abc`,
      actorType: 'AssumedRole',
      actorRoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
      principal: `arn:aws:iam::${ACCOUNT}:role/deploy`,
      sourceIp: '203.0.113.7',
      userAgent: 'aws-cli/2.15',
      errorCode: 'AccessDenied',
      account: ACCOUNT,
      region: 'eu-west-1',
    });
  });

  it('uses the invoking service as principal when there is no ARN', () => {
    const mapped = mapRecord(kms('Decrypt', null, { userIdentity: { type: 'AWSService', invokedBy: 'ssm.amazonaws.com' } }), CONTEXT, STORES);
    expect(mapped.actorArn).toBeNull();
    expect(mapped.principal).toBe('ssm.amazonaws.com');
  });

  it("falls back to the source's account and region, and the ingest time", () => {
    const mapped = mapRecord({ eventName: 'GetParameter', eventTime: '2026-02-30T00:00:00Z' }, CONTEXT, STORES);
    expect(mapped).toMatchObject({ account: ACCOUNT, region: 'eu-west-1', time: CONTEXT.ingestedAt, eventSource: null, actorArn: null });
    expect(mapRecord({ eventTime: 'yesterday' }, CONTEXT, STORES).time).toBe(CONTEXT.ingestedAt);
  });
});

describe.each<[unknown, string | null, boolean]>([
  [true, 'PutParameter', true],
  [false, 'GetParameter', false],
  [undefined, 'GetParameter', true],
  [undefined, 'GetSecretValue', true],
  [undefined, 'DescribeSecret', true],
  [undefined, 'ListSecrets', true],
  [undefined, 'BatchGetSecretValue', true],
  [undefined, 'Decrypt', true],
  [undefined, 'DecryptSomethingElse', false],
  [undefined, 'PutParameter', false],
  [undefined, 'DeleteSecret', false],
  [undefined, 'GenerateDataKey', false],
  ['true', 'PutParameter', false],
  [undefined, null, false],
])('readOnly %s on %s', (readOnly, eventName, expected) => {
  it(`is ${expected ? 'a read' : 'a write'}`, () => {
    expect(isReadEvent(readOnly, eventName)).toBe(expected);
  });
});

describe('pickStore', () => {
  it('prefers the store of the exact account over one of unknown account', () => {
    const stores: StoreLocator[] = [
      { storeId: 'any', kind: 'ssm', region: 'eu-west-1', account: null },
      { storeId: 'exact', kind: 'ssm', region: 'eu-west-1', account: ACCOUNT },
    ];
    expect(pickStore(stores, 'ssm', 'eu-west-1', ACCOUNT)).toBe('exact');
    expect(pickStore(stores, 'ssm', 'eu-west-1', OTHER)).toBe('any');
    expect(pickStore(stores, 'ssm', 'eu-west-1', null)).toBe('any');
    expect(pickStore(stores, 'secretsmanager', 'eu-west-1', ACCOUNT)).toBeNull();
    expect(pickStore(stores, 'ssm', 'us-east-1', ACCOUNT)).toBeNull();
  });
});

describe('references', () => {
  it.each([['arn:aws:ssm:eu-west-1:1:document/x'], ['arn:aws:ssm:eu-west-1:1:parameter'], ['/'], [null], [{}]])('%s is no parameter', (v) => {
    expect(ssmParameterRef(v)).toBeNull();
  });
  it('strips only a six-character suffix from secret ARNs', () => {
    expect(secretRef('arn:aws:secretsmanager:eu-west-1:1:secret:a-b-c-Ab12Cd')?.itemName).toBe('/a-b-c');
    expect(secretRef('arn:aws:secretsmanager:eu-west-1:1:secret:short-Ab1')?.itemName).toBe('/short-Ab1');
    expect(secretRef('arn:aws:secretsmanager:eu-west-1:1:secret:-Ab12Cd')).toBeNull();
  });
});

describe('the value guard', () => {
  const original = (): CloudTrailRecord =>
    sm('PutSecretValue', { secretId: 'prod/db', SecretString: 'hunter2', nested: { deeper: [{ secretBinary: 'AAAA', keep: 1 }], Value: 'x' } }, {
      responseElements: { arn: 'arn', secretValue: 's', versionId: 'v' },
      additionalEventData: { note: 'kept' },
    });

  it('drops value-like keys at any depth, in any case, and keeps the rest', () => {
    const guarded = guardRecord(original());
    expect(guarded.requestParameters).toEqual({ secretId: 'prod/db', nested: { deeper: [{ keep: 1 }] } });
    expect(guarded.responseElements).toEqual({ arn: 'arn', versionId: 'v' });
    expect(guarded.additionalEventData).toEqual({ note: 'kept' });
    expect(JSON.stringify(guarded)).not.toMatch(/hunter2|AAAA/);
  });

  it("never changes the caller's record", () => {
    const input = original();
    const before = structuredClone(input);
    guardRecord(input);
    expect(input).toEqual(before);
  });

  it('keeps a null or absent requestParameters as it was', () => {
    expect(guardRecord(ssm('DescribeParameters', null)).requestParameters).toBeNull();
    expect('requestParameters' in guardRecord({ eventName: 'X' })).toBe(false);
  });
});

describe('event ids', () => {
  it('uses eventID when present', () => {
    expect(eventIdOf(ssm('GetParameter', { name: '/a' }))).toBe('id-GetParameter');
  });
  it('gives a record without one a stable id from its content, whatever the key order', () => {
    const a = { eventName: 'GetParameter', eventTime: '2026-01-01T00:00:00Z', requestParameters: { name: '/a', withDecryption: true } };
    const b = { requestParameters: { withDecryption: true, name: '/a' }, eventTime: '2026-01-01T00:00:00Z', eventName: 'GetParameter' };
    expect(eventIdOf(a)).toMatch(/^synthetic-[0-9a-f]{40}$/);
    expect(eventIdOf(a)).toBe(eventIdOf(b));
    expect(eventIdOf(a)).not.toBe(eventIdOf({ ...a, eventTime: '2026-01-01T00:00:01Z' }));
  });
});
