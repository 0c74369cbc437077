// Next.js bundles server code more than once (the instrumentation hook that opens the stores, and each
// page), so a ConflictError thrown by a store opened there (a Vault check-and-set conflict) comes from
// another copy of this class than the action's: a registry-wide symbol marks every copy's instances,
// and `instanceof` checks the mark.
const CONFLICT_ERROR = Symbol.for('secrets-dashboard.ConflictError');

/** A request that cannot be done as things stand (HTTP 409); its message says why, in the user's terms. */
export class ConflictError extends Error {
  readonly [CONFLICT_ERROR] = true;

  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [CONFLICT_ERROR]?: unknown })[CONFLICT_ERROR] === true;
  }
}
