import 'server-only';
import type { z } from 'zod';
import { AuthorizationError, authorize, type Resource } from '@/lib/auth/authorize';
import { ConflictError } from '@/lib/conflict-error';
import type { Principal } from '@/lib/auth/principal';
import type { Action } from '@/lib/auth/roles';
import { logger } from '@/lib/logger';
import { isRequestError } from '@/lib/request-error';
import { isStoreError } from '@/lib/stores/errors';
import { getCurrentUser } from '@/lib/session';

// The one wrapper every server action is built on. A server action is a public POST endpoint, so
// each one names its own permission here and is checked on every call, whatever the UI showed.

export type ActionResult<T> = { ok: true; data: T } | { ok: false; status: 400 | 401 | 403 | 404 | 409 | 500; error: string };

export function authedAction<S extends z.ZodType, T>(
  /** `schema` may be made per call (one whose bounds depend on the clock). */
  options: { schema: S | (() => S); permission: Action; resource?: (input: z.infer<S>) => Resource },
  handler: (input: z.infer<S>, principal: Principal) => Promise<T>,
): (input: unknown) => Promise<ActionResult<T>> {
  return async (input) => {
    const principal = await getCurrentUser();
    if (!principal) return { ok: false, status: 401, error: 'Your session has ended. Sign in again.' };
    const schema = typeof options.schema === 'function' ? options.schema() : options.schema;
    const parsed = schema.safeParse(input);
    if (!parsed.success) return { ok: false, status: 400, error: parsed.error.issues.map((i) => i.message).join(' ') };
    try {
      await authorize(principal, options.permission, options.resource?.(parsed.data));
      return { ok: true, data: await handler(parsed.data, principal) };
    } catch (error) {
      if (error instanceof AuthorizationError) return { ok: false, status: error.status === 401 ? 401 : error.status, error: error.message };
      if (error instanceof ConflictError) return { ok: false, status: 409, error: error.message };
      if (isRequestError(error)) return { ok: false, status: error.status, error: error.message };
      // A store's own refusal of a name (its last line of checks) or a store that is not there.
      if (isStoreError(error) && error.code === 'invalid-name') return { ok: false, status: 400, error: error.message };
      if (isStoreError(error) && error.code === 'not-found') return { ok: false, status: 404, error: error.message };
      logger.error({ permission: options.permission, err: error instanceof Error ? error.name : 'unknown' }, 'server action failed');
      return { ok: false, status: 500, error: 'That did not work; try again, and check the server log if it persists.' };
    }
  };
}
