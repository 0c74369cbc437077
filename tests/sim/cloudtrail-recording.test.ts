import { describe, expect, it } from 'vitest';
import { mapRecord } from '@/lib/cloudtrail/event-mapping';
import type { SimCall } from '@/simulator/simulated-aws';
import { cloudTrailRecordOf, cloudTrailTime, userIdentityOf } from '@/simulator/cloudtrail-recording';

// The CloudTrail record of one simulated call, field by field, as the dashboard reads it.

const AT = Date.parse('2026-12-05T01:02:03.456Z');
const call = (over: Partial<SimCall> = {}): SimCall => ({
  service: 'ssm',
  operation: 'PutParameter',
  at: AT,
  accessKeyId: 'AKIAEXAMPLE000000001',
  userAgent: 'aws-sdk-js/3.0.0',
  requestParameters: { name: '/app/db/host', type: 'String', overwrite: true },
  resources: [{ type: 'AWS::SSM::Parameter', arn: 'arn:aws:ssm:eu-west-1:222222222222:parameter/app/db/host' }],
  readOnly: false,
  ...over,
});
const context = { account: '222222222222', region: 'eu-west-1', principalArn: 'arn:aws:iam::222222222222:user/ops/alice' };

describe('cloudTrailRecordOf', () => {
  it('writes an API call as CloudTrail does: time to the second, the caller, its parameters and resources', () => {
    const record = cloudTrailRecordOf(call(), context);
    expect(record).toMatchObject({
      eventTime: '2026-12-05T01:02:03Z',
      eventSource: 'ssm.amazonaws.com',
      eventName: 'PutParameter',
      awsRegion: 'eu-west-1',
      recipientAccountId: '222222222222',
      readOnly: false,
      eventType: 'AwsApiCall',
      userAgent: 'aws-sdk-js/3.0.0',
      requestParameters: { name: '/app/db/host', type: 'String', overwrite: true },
      resources: [{ accountId: '222222222222', type: 'AWS::SSM::Parameter', ARN: 'arn:aws:ssm:eu-west-1:222222222222:parameter/app/db/host' }],
      userIdentity: { type: 'IAMUser', arn: context.principalArn, accountId: '222222222222', userName: 'alice', accessKeyId: 'AKIAEXAMPLE000000001' },
    });
    expect(record.errorCode).toBeUndefined();
    expect(cloudTrailRecordOf(call(), context).eventID).not.toBe(record.eventID);
    const mapped = mapRecord(record, { account: null, region: null, ingestedAt: new Date().toISOString() }, [
      { storeId: 'other-region', kind: 'ssm', region: 'us-east-1', account: '222222222222' },
      { storeId: 'here', kind: 'ssm', region: 'eu-west-1', account: '222222222222' },
    ]);
    expect(mapped.items).toEqual([{ storeId: 'here', itemName: '/app/db/host', recursive: null }]);
    expect(mapped).toMatchObject({ actorArn: context.principalArn, readOnly: false, errorCode: null });
  });

  it('keeps a refusal as errorCode and errorMessage, and a call without parameters as null ones', () => {
    const record = cloudTrailRecordOf(call({ operation: 'DescribeParameters', requestParameters: {}, resources: [], readOnly: true, errorCode: 'AccessDeniedException', errorMessage: 'not authorized' }), context);
    expect(record).toMatchObject({ errorCode: 'AccessDeniedException', errorMessage: 'not authorized', requestParameters: null, readOnly: true });
    expect(record.resources).toBeUndefined();
  });

  it('writes a service event as invoked by the service, the secret in additionalEventData', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:222222222222:secret:app/key-AbCdEf';
    const record = cloudTrailRecordOf(
      call({ service: 'secretsmanager', operation: 'RotationFailed', accessKeyId: null, eventType: 'AwsServiceEvent', requestParameters: {}, resources: [{ type: 'AWS::SecretsManager::Secret', arn }], errorCode: 'RotationFailed' }),
      context,
    );
    expect(record).toMatchObject({
      eventType: 'AwsServiceEvent',
      userIdentity: { accountId: '222222222222', invokedBy: 'secretsmanager.amazonaws.com' },
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      additionalEventData: { SecretId: arn },
      requestParameters: null,
      errorCode: 'RotationFailed',
    });
    expect(record.requestID).toBeUndefined();
  });
});

describe('userIdentityOf', () => {
  it('names an assumed-role session with its role, an unknown principal only by account and key', () => {
    expect(userIdentityOf('arn:aws:sts::111111111111:assumed-role/secrets-dashboard/dashboard', '111111111111', 'AKIAX')).toMatchObject({
      type: 'AssumedRole',
      principalId: expect.stringMatching(/^AROA[0-9A-F]{17}:dashboard$/),
      sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111111111111:role/secrets-dashboard', userName: 'secrets-dashboard' } },
    });
    expect(userIdentityOf(null, '111111111111', 'AKIAX')).toEqual({ type: 'Unknown', accountId: '111111111111', accessKeyId: 'AKIAX' });
    expect(cloudTrailTime(Date.parse('2026-01-02T03:04:05.999Z'))).toBe('2026-01-02T03:04:05Z');
  });
});
