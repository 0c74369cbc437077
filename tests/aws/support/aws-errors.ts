import { SSMServiceException } from '@aws-sdk/client-ssm';

// Errors shaped like the ones the SDK throws: service exceptions carry name, $fault and $metadata;
// network failures are plain Errors with a Node error code.

export function serviceError(name: string, message: string, httpStatusCode = 400): Error {
  return new SSMServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'req-0001' },
    message,
  });
}

export function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export function timeoutError(): Error {
  // What the SDK's node-http-handler throws when requestTimeout passes.
  return Object.assign(new Error('Connection timed out after 10000 ms'), { name: 'TimeoutError' });
}
