import { describe, expect, it } from 'vitest';
import { redactOtherItems, type EventVisibility } from '@/lib/cloudtrail/event-redaction';

// A raw CloudTrail event as a scoped caller sees it: every field naming an item and every ARN
// (but the caller's identity) kept only when it names an item they may see; what cannot be mapped
// to one is removed. The input is never modified.

const ACCOUNT = '111122223333';
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
const paramArn = (name: string) => `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${name}`;
const IDENTITY = { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/reader/s`, sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/reader` } } };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const mine = (names: string[], everyItemVisible = false): EventVisibility => ({ visible: new Set(names), everyItemVisible });

describe('redactOtherItems', () => {
  it.each([
    [
      'BatchGetSecretValue secretIdList, by name and by ARN',
      { requestParameters: { secretIdList: ['prod/payments/a', 'prod/web/b', secretArn('prod/payments/a'), secretArn('prod/web/c')] } },
      { requestParameters: { secretIdList: ['prod/payments/a', secretArn('prod/payments/a')] } },
    ],
    [
      'resources: other secrets and a KMS key (no item) removed',
      { resources: [{ ARN: secretArn('prod/payments/a'), type: 'AWS::SecretsManager::Secret' }, { ARN: secretArn('prod/web/b') }, { ARN: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k` }] },
      { resources: [{ ARN: secretArn('prod/payments/a'), type: 'AWS::SecretsManager::Secret' }] },
    ],
    [
      'GetParameters names, with a version selector and an ARN',
      { requestParameters: { names: ['/prod/payments/a:3', '/prod/web/b', paramArn('/prod/web/c'), paramArn('/prod/payments/a')], withDecryption: true } },
      { requestParameters: { names: ['/prod/payments/a:3', paramArn('/prod/payments/a')], withDecryption: true } },
    ],
    [
      'a Decrypt whose encryption context names another parameter loses the context, and the key ARN',
      { requestParameters: { encryptionContext: { PARAMETER_ARN: paramArn('/prod/web/b') }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', keyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k` } },
      { requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' } },
    ],
    [
      'an errors list in the response keeps the caller\'s entries only',
      { responseElements: { errors: [{ secretId: 'prod/web/b', message: 'prod/web/b is gone' }, { SecretId: 'prod/payments/a', message: 'denied' }] } },
      { responseElements: { errors: [{ SecretId: 'prod/payments/a', message: 'denied' }] } },
    ],
    [
      'filters select by prefix, never an item: removed',
      { requestParameters: { filters: [{ key: 'name' }], maxResults: 20, parameterFilters: [{ key: 'Name', option: 'BeginsWith' }] } },
      { requestParameters: { maxResults: 20 } },
    ],
    [
      'an ARN in a field no one maps (a rotation function, an unknown field) is removed',
      { requestParameters: { secretId: 'prod/payments/a', rotationLambdaARN: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotate-web` }, addendum: { reason: secretArn('prod/web/b') } },
      { requestParameters: { secretId: 'prod/payments/a' }, addendum: {} },
    ],
    [
      'free text quoting the ARN of an item outside the grants is removed; quoting the caller\'s own, kept',
      { requestParameters: { secretId: 'prod/payments/a', description: `copy of ${secretArn('prod/web/b')}`, clientRequestToken: 't-1' }, responseElements: { note: `see ${secretArn('prod/payments/a')}` } },
      { requestParameters: { secretId: 'prod/payments/a', clientRequestToken: 't-1' }, responseElements: { note: `see ${secretArn('prod/payments/a')}` } },
    ],
    [
      'a GetParametersByPath path is a folder: kept when the caller may see that folder row',
      { requestParameters: { path: '/prod/payments', recursive: true } },
      { requestParameters: { path: '/prod/payments', recursive: true } },
    ],
  ])('%s', (_label, raw, expected) => {
    const input = deepFreeze({ eventName: 'X', userIdentity: IDENTITY, ...raw });
    expect(redactOtherItems(input, mine(['/prod/payments/a', '/prod/payments/']))).toEqual({ eventName: 'X', userIdentity: IDENTITY, ...expected });
  });

  it('keeps the identity as it is (its ARNs are roles, not items) and every plain field', () => {
    const raw = deepFreeze({ eventVersion: '1.08', userIdentity: IDENTITY, eventSource: 'ssm.amazonaws.com', sourceIPAddress: '203.0.113.7', readOnly: true, requestParameters: null });
    expect(redactOtherItems(raw, mine([]))).toEqual(raw);
  });

  it('shows a free-text error message only when every item of the event is the caller\'s and it quotes no other ARN', () => {
    const raw = deepFreeze({ errorCode: 'AccessDenied', errorMessage: `not authorized on ${secretArn('prod/payments/a')}.` });
    expect(redactOtherItems(raw, mine(['/prod/payments/a'], true))).toEqual(raw);
    expect(redactOtherItems(raw, mine(['/prod/payments/a'], false))).toEqual({ errorCode: 'AccessDenied' });
    const other = deepFreeze({ errorCode: 'AccessDenied', errorMessage: `not authorized on ${secretArn('prod/web/b')}` });
    expect(redactOtherItems(other, mine(['/prod/payments/a'], true))).toEqual({ errorCode: 'AccessDenied' });
  });

  it('returns new objects: the stored event is never changed', () => {
    const raw = { requestParameters: { secretIdList: ['prod/payments/a', 'prod/web/b'] }, resources: [{ ARN: secretArn('prod/web/b') }] };
    const before = structuredClone(raw);
    const cut = redactOtherItems(raw, mine(['/prod/payments/a']));
    expect(raw).toEqual(before);
    expect(cut.requestParameters).not.toBe(raw.requestParameters);
    expect(cut.resources).toEqual([]);
  });
});
