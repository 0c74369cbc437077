/** A request the user can get wrong: bad input (400) or nothing of that name within their grants (404); the message says which field or what to do. */
export class RequestError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** By name: the error may come from another bundled copy of this module (see lib/stores/errors.ts). */
export function isRequestError(error: unknown): error is RequestError {
  return error instanceof Error && error.name === 'RequestError' && 'status' in error;
}
