import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { seededRandom } from '@/lib/random/seeded-random';

// Seeded CloudTrail records for the index's query tests: a deterministic mix of reads and writes
// by several kinds of actor over two stores, folders, multi-item events, errors and unmapped events.

export const ACCOUNT = '111122223333';
export const STORES: StoreLocator[] = [
  { storeId: 'prod-params', kind: 'ssm', region: 'eu-west-1', account: ACCOUNT },
  { storeId: 'prod-secrets', kind: 'secretsmanager', region: 'eu-west-1', account: ACCOUNT },
];
export const WHERE = { account: ACCOUNT, region: 'eu-west-1' };

export const PARAMS = ['/prod/payments/a', '/prod/payments/b', '/prod/payments/deep/c', '/prod/web/x', '/prod/web/y', '/dev/z', '/top'];
export const SECRETS = ['prod/payments/db', 'prod/web/session', 'dev/token'];
export const ACTORS = [
  { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice` },
  { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/bob` },
  { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/i-0aaa`, role: `arn:aws:iam::${ACCOUNT}:role/deploy` },
  { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/i-0bbb`, role: `arn:aws:iam::${ACCOUNT}:role/deploy` },
  { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin_50%/carol`, role: `arn:aws:iam::${ACCOUNT}:role/Admin_50%` },
  { type: 'AWSService', invokedBy: 'secretsmanager.amazonaws.com' },
] as const;
export const IPS = ['203.0.113.7', '198.51.100.2', 'secretsmanager.amazonaws.com'];

export const prng = seededRandom;

export const START = Date.parse('2026-01-01T00:00:00Z');

export function seedRecords(count: number, seed = 7): CloudTrailRecord[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const records: CloudTrailRecord[] = [];
  for (let i = 0; i < count; i++) {
    const actor = pick(ACTORS);
    const userIdentity =
      'invokedBy' in actor
        ? { type: actor.type, invokedBy: actor.invokedBy }
        : { type: actor.type, arn: actor.arn, ...('role' in actor ? { sessionContext: { sessionIssuer: { type: 'Role', arn: actor.role } } } : {}) };
    // Many events share a second, so the (time, id) tie-breaker is exercised.
    const time = new Date(START + Math.floor(random() * 1440) * 3_600_000).toISOString().replace('.000', '');
    const roll = random();
    let base: Pick<CloudTrailRecord, 'eventSource' | 'eventName' | 'requestParameters' | 'awsRegion' | 'readOnly'>;
    if (roll < 0.25) base = { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: pick(PARAMS), withDecryption: true }, readOnly: true };
    else if (roll < 0.35) base = { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameters', requestParameters: { names: [pick(PARAMS), pick(PARAMS)] }, readOnly: true };
    else if (roll < 0.42)
      base = { eventSource: 'ssm.amazonaws.com', eventName: 'GetParametersByPath', requestParameters: { path: pick(['/prod/', '/prod/payments/', '/', '/dev/']), recursive: random() < 0.5 } };
    else if (roll < 0.52) base = { eventSource: 'ssm.amazonaws.com', eventName: 'PutParameter', requestParameters: { name: pick(PARAMS), overwrite: true } };
    else if (roll < 0.7) base = { eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: pick(SECRETS) } };
    else if (roll < 0.76)
      base = { eventSource: 'secretsmanager.amazonaws.com', eventName: 'BatchGetSecretValue', requestParameters: { secretIdList: [pick(SECRETS), pick(SECRETS), pick(SECRETS)] } };
    else if (roll < 0.82) base = { eventSource: 'secretsmanager.amazonaws.com', eventName: 'PutSecretValue', requestParameters: { secretId: pick(SECRETS) } };
    else if (roll < 0.9)
      base = {
        eventSource: 'kms.amazonaws.com',
        eventName: 'Decrypt',
        requestParameters: { encryptionContext: { PARAMETER_ARN: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${pick(PARAMS)}` } },
        readOnly: true,
      };
    else if (roll < 0.95) base = { eventSource: 'ssm.amazonaws.com', eventName: 'DescribeParameters', requestParameters: {} };
    else base = { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: pick(PARAMS) }, awsRegion: 'ap-south-1' };
    records.push({
      eventID: `seed-${i}`,
      eventTime: time,
      awsRegion: 'eu-west-1',
      recipientAccountId: ACCOUNT,
      userIdentity,
      sourceIPAddress: pick(IPS),
      userAgent: 'aws-sdk-js/3',
      ...(random() < 0.1 ? { errorCode: pick(['AccessDenied', 'ParameterNotFound']), errorMessage: 'no' } : {}),
      ...base,
    });
  }
  return records;
}
