import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { secretArn } from '../simulated-aws';
import type { DemoPrincipal, Identity } from './principals';

// CloudTrail records as CloudTrail writes them for the calls the demo's actors make: the shape of
// one management event, and the requestParameters per operation (names and flags, never a value).

export interface RecordContext {
  account: string;
  region: string;
  /** Makes event ids unique per account and deterministic. */
  nextId: () => string;
}

export interface Call {
  at: number;
  by: DemoPrincipal;
  session: string;
  eventSource: 'ssm.amazonaws.com' | 'secretsmanager.amazonaws.com' | 'kms.amazonaws.com';
  eventName: string;
  readOnly: boolean;
  requestParameters: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: CloudTrailRecord['resources'];
  errorCode?: string;
  errorMessage?: string;
  /** Another identity than the principal's (a service acting for it). */
  identity?: Identity;
}

/** CloudTrail's eventTime: seconds, no milliseconds. */
export const eventTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function record(ctx: RecordContext, call: Call): CloudTrailRecord {
  const identity = call.identity ?? call.by.identity(call.session);
  return {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: eventTime(call.at),
    eventSource: call.eventSource,
    eventName: call.eventName,
    awsRegion: ctx.region,
    sourceIPAddress: call.identity?.invokedBy ?? call.by.sourceIp,
    userAgent: call.identity?.invokedBy ?? call.by.userAgent,
    ...(call.errorCode ? { errorCode: call.errorCode, errorMessage: call.errorMessage ?? '' } : {}),
    requestParameters: call.requestParameters,
    responseElements: call.responseElements ?? null,
    requestID: ctx.nextId(),
    eventID: ctx.nextId(),
    readOnly: call.readOnly,
    ...(call.resources ? { resources: call.resources } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ctx.account,
    eventCategory: 'Management',
  };
}

/** A deterministic, uuid-shaped id generator for one account's records. */
export function idGenerator(seed: string): () => string {
  let n = 0;
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return () => {
    n++;
    const a = (Math.imul(h ^ n, 2654435761) >>> 0).toString(16).padStart(8, '0');
    const b = n.toString(16).padStart(12, '0');
    return `${a}-${(h & 0xffff).toString(16).padStart(4, '0')}-4${a.slice(0, 3)}-8${b.slice(0, 3)}-${b}`;
  };
}

/** A secret's ARN as the simulated account answers it (the organisation's accounts use the simulator's default seed). */
export const secretArnOf = (account: string, region: string, name: string) => secretArn(name, account, region);

export const parameterArnOf = (account: string, region: string, name: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`;
export const kmsKeyArnOf = (account: string, region: string) => `arn:aws:kms:${region}:${account}:key/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0`;
