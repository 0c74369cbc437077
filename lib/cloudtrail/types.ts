// The contract between CloudTrail sources (lookup-events-source.ts, s3-source.ts, sync.ts) and the
// event index (event-index.ts): sources fetch raw CloudTrail records and hand them over together with
// their new position, which the index writes in one transaction, so a restart neither loses nor
// doubles an event.

/** One CloudTrail record as CloudTrail writes it (the parsed `CloudTrailEvent` string of LookupEvents, or
 * one element of `Records` in a trail's S3 log file). Fields may be missing or odd: keep, never drop. */
export interface CloudTrailRecord {
  eventVersion?: string;
  eventID?: string;
  eventTime?: string;
  eventSource?: string;
  eventName?: string;
  awsRegion?: string;
  recipientAccountId?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  userIdentity?: {
    type?: string;
    arn?: string;
    accountId?: string;
    principalId?: string;
    invokedBy?: string;
    sessionContext?: { sessionIssuer?: { type?: string; arn?: string; userName?: string } };
  };
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: { ARN?: string; accountId?: string; type?: string }[];
  [key: string]: unknown;
}

/** 'vault-file': Vault's file audit device (vault-file-source.ts), read into the same index. */
export type CloudTrailSourceKind = 'lookup-events' | 'cloudtrail-s3' | 'vault-file';

/** Where a source is: opaque to the index, JSON-serialisable, written with the events it led to. */
export type SourceCursor = Record<string, unknown>;

export interface SourceStatePatch {
  cursor: SourceCursor;
  /** Newest eventTime seen so far (ISO), for lag. */
  lastEventTime?: string | null;
  /** Set on a successful page; a failed page calls recordSourceError instead. */
  lastSuccessAt?: string;
  /** S3 sources: the log file this page read, remembered (with the page, in one transaction) while
   * its day prefix is inside the lookback window, so a re-listing never reads it twice. */
  readFile?: string;
}

export interface SourceState {
  sourceId: string;
  kind: CloudTrailSourceKind;
  account: string | null;
  region: string;
  cursor: SourceCursor | null;
  lastEventTime: string | null;
  lastSuccessAt: string | null;
  eventsIndexed: number;
  lastError: { message: string; at: string } | null;
}

/** An AWS store the index maps events to (from CONFIG_FILE's stores). */
export interface AwsStoreLocator {
  storeId: string;
  kind: 'ssm' | 'secretsmanager';
  region: string;
  /** From the store's roleArn when it has one; null matches any account. */
  account: string | null;
}

/** A Vault store the index maps its audit source's events to: keys under `prefix` of its mount are its items. */
export interface VaultStoreLocator {
  storeId: string;
  kind: 'vault';
  /** The store's pathPrefix, '' or ending with '/'. */
  prefix: string;
}

export type StoreLocator = AwsStoreLocator | VaultStoreLocator;

export interface IngestResult {
  inserted: number;
  duplicates: number;
  /** Older than AUDIT_RETENTION_DAYS: not kept. */
  expired?: number;
}
