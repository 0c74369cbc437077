/** A request that cannot be done as things stand (HTTP 409); its message says why, in the user's terms. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
