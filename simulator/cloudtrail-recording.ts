import { createHash, randomUUID } from 'node:crypto';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import type { SimCall } from './simulated-aws';

// How CloudTrail records one call made to the simulated Parameter Store or Secrets Manager: the
// management event AWS writes for it (eventSource, eventName, the caller's identity, the request's
// parameters without any value, the items touched, the error of a refused call). Service events
// (a rotation function's RotationSucceeded / RotationFailed) are recorded as AWS writes those:
// invoked by the service, the secret in additionalEventData. Pure: the caller adds the record.

export interface RecordingContext {
  account: string;
  region: string;
  /** Who the call's access key is, as CloudTrail names it (an assumed-role session or an IAM user ARN). */
  principalArn: string | null;
}

const EVENT_SOURCE = { ssm: 'ssm.amazonaws.com', secretsmanager: 'secretsmanager.amazonaws.com' } as const;

/** CloudTrail's eventTime: ISO 8601 to the second. */
export const cloudTrailTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A stable principal id for a role or user name, shaped as AWS's (AROA… / AIDA…). */
function principalIdOf(prefix: 'AROA' | 'AIDA', arn: string): string {
  return `${prefix}${createHash('sha256').update(arn).digest('hex').slice(0, 17).toUpperCase()}`;
}

/** The userIdentity block of a caller's key: AssumedRole for an sts assumed-role ARN, IAMUser for an iam user ARN. */
export function userIdentityOf(principalArn: string | null, account: string, accessKeyId: string | null): Record<string, unknown> {
  const keyField = accessKeyId ? { accessKeyId } : {};
  const role = principalArn ? /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(principalArn) : null;
  if (principalArn && role) {
    const roleArn = `arn:aws:iam::${role[1]}:role/${role[2]}`;
    const roleId = principalIdOf('AROA', roleArn);
    const sessionIssuer = { type: 'Role', principalId: roleId, arn: roleArn, accountId: role[1]!, userName: role[2]! };
    return {
      type: 'AssumedRole',
      principalId: `${roleId}:${role[3]}`,
      arn: principalArn,
      accountId: role[1]!,
      ...keyField,
      sessionContext: {
        sessionIssuer,
        attributes: { mfaAuthenticated: 'false' },
      },
    };
  }
  const user = principalArn ? /^arn:aws:iam::(\d{12}):user\/(.+)$/.exec(principalArn) : null;
  if (principalArn && user) return { type: 'IAMUser', principalId: principalIdOf('AIDA', principalArn), arn: principalArn, accountId: user[1]!, userName: user[2]!.split('/').pop()!, ...keyField };
  // A key the organisation does not name: CloudTrail still records the account and key.
  return { type: 'Unknown', accountId: account, ...keyField };
}

/** The CloudTrail record of one simulated call. */
export function cloudTrailRecordOf(call: SimCall, context: RecordingContext): CloudTrailRecord {
  const eventSource = EVENT_SOURCE[call.service];
  const base = {
    eventVersion: '1.09',
    eventTime: cloudTrailTime(call.at),
    eventSource,
    eventName: call.operation,
    awsRegion: context.region,
    eventID: randomUUID(),
    readOnly: call.readOnly,
    recipientAccountId: context.account,
    managementEvent: true,
    eventCategory: 'Management',
  };
  const resources = call.resources.map((r) => ({ accountId: context.account, type: r.type, ARN: r.arn }));
  if (call.eventType === 'AwsServiceEvent') {
    return {
      ...base,
      userIdentity: { accountId: context.account, invokedBy: eventSource },
      sourceIPAddress: eventSource,
      userAgent: eventSource,
      requestParameters: null,
      responseElements: null,
      additionalEventData: call.resources[0] ? { SecretId: call.resources[0].arn } : {},
      ...(resources.length > 0 ? { resources } : {}),
      ...(call.errorCode ? { errorCode: call.errorCode } : {}),
      ...(call.errorMessage ? { errorMessage: call.errorMessage } : {}),
      eventType: 'AwsServiceEvent',
    };
  }
  return {
    ...base,
    userIdentity: userIdentityOf(context.principalArn, context.account, call.accessKeyId) as CloudTrailRecord['userIdentity'],
    // The simulator listens on loopback only: every caller is local.
    sourceIPAddress: '127.0.0.1',
    ...(call.userAgent ? { userAgent: call.userAgent } : {}),
    ...(call.errorCode ? { errorCode: call.errorCode } : {}),
    ...(call.errorMessage ? { errorMessage: call.errorMessage } : {}),
    requestParameters: Object.keys(call.requestParameters).length > 0 ? call.requestParameters : null,
    responseElements: null,
    requestID: randomUUID(),
    ...(resources.length > 0 ? { resources } : {}),
    eventType: 'AwsApiCall',
  };
}
