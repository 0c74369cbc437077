import 'server-only';
import { StoreError, type StoreErrorCode } from './errors';

// Turns whatever the AWS SDK throws into a StoreError a page can show as it is. The message is
// built here from the error's name only: AWS error messages and response bodies are never copied
// (they can echo request input), and the cause kept for logs is a small sanitised summary, not the
// SDK error with its $response.

type AwsErrorLike = {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
};

const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'AuthorizationError',
]);
const KMS_DENIED = new Set([
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'DecryptionFailure',
  'DecryptionFailureException',
  'InvalidKeyId',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'TooManyRequests',
  'RequestLimitExceeded',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'ParameterNotFound',
  'ParameterVersionNotFound',
  'InvalidResourceId',
]);
const CREDENTIALS = new Set([
  'ExpiredTokenException',
  'ExpiredToken',
  'RequestExpired',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);
const TIMEOUT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The error's type name (e.g. "ThrottlingException" or "ECONNREFUSED"), never its message. */
export function awsErrorName(error: unknown): string {
  if (!error || typeof error !== 'object') return 'UnknownError';
  const e = error as AwsErrorLike;
  const code = text(e.code) || text(e.Code);
  const name = text(e.name);
  // Node network errors are plain Errors whose code says what happened.
  if (/^E[A-Z_]+$/.test(code) && (!name || name === 'Error')) return code;
  return name || code || 'UnknownError';
}

function classify(error: unknown, name: string): StoreErrorCode {
  const e = (error && typeof error === 'object' ? error : {}) as AwsErrorLike;
  const code = text(e.code);
  const message = text(e.message);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;

  if (ACCESS_DENIED.has(name) || KMS_DENIED.has(name)) return 'access-denied';
  if (THROTTLED.has(name) || status === 429) return 'throttled';
  if (NOT_FOUND.has(name)) return 'not-found';
  if (CREDENTIALS.has(name)) return 'credentials-expired';
  if (TIMEOUT.has(name) || TIMEOUT.has(code) || /socket hang up/i.test(message)) return 'timeout';
  if (UNREACHABLE.has(name) || UNREACHABLE.has(code)) return 'unavailable';
  // The SDK marks credential lookups that found nothing with this flag as well.
  if ((error as { tryNextLink?: unknown } | null)?.tryNextLink !== undefined) return 'credentials-expired';
  if (status === 403) return 'access-denied';
  return 'unavailable';
}

function isKmsProblem(error: unknown, name: string): boolean {
  if (KMS_DENIED.has(name)) return true;
  // AWS reports a denied KMS call inside another service as AccessDeniedException whose message
  // mentions KMS; the message is only inspected, never repeated.
  const message = text((error as AwsErrorLike | null)?.message);
  return ACCESS_DENIED.has(name) && /\bkms\b|kms:/i.test(message);
}

function advice(code: StoreErrorCode, kms: boolean, action: string): string {
  switch (code) {
    case 'access-denied':
      return kms
        ? 'The KMS key that protects this item denies the store\'s identity: allow kms:DescribeKey (and kms:Decrypt only where values are read) in the key policy.'
        : `The store's identity is not allowed to call ${action}: grant it in the IAM policy of the role or profile this store uses.`;
    case 'throttled':
      return 'AWS is rate-limiting this account; wait a moment and retry, or raise the API quota.';
    case 'not-found':
      return 'The item no longer exists or the store is pointed at the wrong account or region.';
    case 'credentials-expired':
      return 'The credentials are missing, invalid or expired: refresh them (e.g. aws sso login), check the profile or role in the configuration, then retry.';
    case 'timeout':
      return 'AWS did not answer in time; check the network path to the endpoint and retry.';
    default:
      return 'AWS could not be reached or failed; check the region, endpoint and network, then retry.';
  }
}

/**
 * Maps an AWS SDK or network error to a StoreError. `action` is the API call, e.g.
 * "ssm:DescribeParameters". Passing a StoreError through leaves it unchanged.
 */
export function toStoreError(storeId: string, action: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const name = awsErrorName(error);
  const code = classify(error, name);
  const kms = code === 'access-denied' && isKmsProblem(error, name);
  const meta = (error as AwsErrorLike | null)?.$metadata;
  const requestId = typeof meta?.requestId === 'string' ? meta.requestId : undefined;
  const what = kms ? `AWS KMS denied access during ${action}` : `${action} failed`;
  const message =
    `Store "${storeId}": ${what} (${name}). ${advice(code, kms, action)}` + (requestId ? ` AWS request id: ${requestId}.` : '');
  const cause = {
    name,
    action,
    ...(requestId ? { requestId } : {}),
    ...(typeof meta?.httpStatusCode === 'number' ? { httpStatusCode: meta.httpStatusCode } : {}),
  };
  return new StoreError(code, storeId, message, { cause });
}

/** True for errors that mean "this item does not exist" (getItem turns them into null). */
export function isAwsNotFound(error: unknown): boolean {
  return NOT_FOUND.has(awsErrorName(error));
}
