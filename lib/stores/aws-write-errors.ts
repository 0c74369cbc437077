import 'server-only';
import { ConflictError } from '@/lib/conflict-error';
import { awsErrorName, toStoreError } from './aws-errors';
import type { StoreError } from './errors';

// AWS's refusals of a write (rotate, generate, schedule) as the user should read them. As with
// every AWS error here, the message is ours: AWS's text can echo request input, which for a write
// may be the new value, so it is only inspected (to tell two refusals of one name apart), never shown.

function refusal(name: string, message: string, item: string, action: string): string | null {
  switch (name) {
    case 'InvalidRequestException':
      if (/previous rotation|isn't complete|not complete/i.test(message))
        return `A rotation of ${item} is still under way (AWSPENDING is set on another version); wait for it to finish, or clear AWSPENDING in AWS if it failed, then try again.`;
      if (/lambda|rotation function/i.test(message))
        return `${item} has no rotation function in AWS; set one up in Secrets Manager, or generate a new value instead.`;
      if (/deletion|deleted/i.test(message)) return `${item} is scheduled for deletion in AWS; restore it before changing it.`;
      return `AWS refused ${action} for ${item} (InvalidRequestException); check the secret's state in the AWS console.`;
    case 'ResourceExistsException':
      return `This request was already made for ${item} with a different value; reload the page and try again.`;
    case 'InvalidParameterException':
    case 'ValidationException':
      return `AWS refused the request to ${action} ${item} as invalid (${name}); check the schedule or the item's type and limits.`;
    case 'ParameterMaxVersionLimitExceeded':
      return `${item} already has 100 versions, and the oldest one carries a label; move the label in AWS, then try again.`;
    case 'TooManyUpdates':
      return `${item} is being changed by someone else right now; try again in a moment.`;
    case 'UnsupportedParameterType':
    case 'InvalidAllowedPatternException':
    case 'ParameterPatternMismatchException':
      return `AWS refused the new value for ${item} (${name}): the parameter restricts what it may hold; change it in AWS.`;
    case 'LimitExceededException':
      return `AWS refused the request for ${item}: an account limit was reached (LimitExceededException).`;
    case 'EncryptionFailure':
      return `AWS could not encrypt the new value of ${item} with its KMS key (EncryptionFailure); check that the key is enabled and the store's role may use it.`;
    default:
      return null;
  }
}

/** A ConflictError (HTTP 409) for refusals the user can act on; any other failure as a StoreError. */
export function toWriteError(storeId: string, action: string, item: string, error: unknown): ConflictError | StoreError {
  const name = awsErrorName(error);
  const message = error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string' ? (error as { message: string }).message : '';
  const text = refusal(name, message, item, action);
  return text ? new ConflictError(`Store "${storeId}": ${text}`) : toStoreError(storeId, action, error);
}
