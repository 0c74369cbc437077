import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { readEnv } from '@/lib/config/env';
import { FULL_SCOPE, type AuditScope } from '@/lib/cloudtrail/event-scope';
import { globsPattern, nameRanges, type NameRanges } from './path-glob';
import { grantCoversName, grantCoversStore, grantCoversSubtree, grantReachesFolder, isUnrestricted } from './grants';
import { actorOf, type Principal } from './principal';
import { PATH_ACTIONS, roleAllows, STORE_ACTIONS, type Action } from './roles';

// The one place that decides who may do what. Every page, route handler and server action asks
// here; the UI only hides what this would refuse anyway.

export type Resource =
  | { storeId: string; name: string }
  | { storeId: string; folder: string }
  | undefined;

export function revealEnabled(): boolean {
  return readEnv().ALLOW_REVEAL;
}

export function can(principal: Principal | null, action: Action, resource?: Resource): boolean {
  if (!principal) return false;
  if (action === 'reveal' && !revealEnabled()) return false;
  if (!PATH_ACTIONS.includes(action)) return canEverywhere(principal, action);
  const grants = principal.grants.filter((g) => roleAllows(g.role, action));
  if (!resource) return grants.length > 0;
  if (STORE_ACTIONS.includes(action)) return grants.some((g) => grantCoversStore(g, resource.storeId) && grantCoversSubtree(g, '/'));
  return grants.some(
    (g) =>
      grantCoversStore(g, resource.storeId) &&
      ('name' in resource ? grantCoversName(g, resource.name) : grantReachesFolder(g, resource.folder)),
  );
}

/** The names of a store that `action`'s grants cover, as one pattern: null for every name, false for none. */
function namePatternFor(principal: Principal | null, action: Action, storeId: string): string | null | false {
  const grants = (principal?.grants ?? []).filter((g) => roleAllows(g.role, action) && grantCoversStore(g, storeId));
  if (grants.length === 0) return false;
  if (grants.some((g) => grantCoversSubtree(g, '/'))) return null;
  return globsPattern(grants.flatMap((g) => g.paths));
}

/**
 * The names of a store the principal may list, as one regular expression for the inventory's
 * queries: null for every name, false for none. It matches exactly what can(…'list'…) allows.
 */
export function listableNamePattern(principal: Principal | null, storeId: string): string | null | false {
  return namePatternFor(principal, 'list', storeId);
}

/** The names of a store whose audit trail (and findings) the principal may read: null for every name, false for none. */
export function auditableNamePattern(principal: Principal | null, storeId: string): string | null | false {
  return namePatternFor(principal, 'view-audit', storeId);
}

/** Where the names auditableNamePattern matches lie (see listableNameRanges): only a faster way to the same rows. */
export function auditableNameRanges(principal: Principal | null, storeId: string): NameRanges | null {
  const grants = (principal?.grants ?? []).filter((g) => roleAllows(g.role, 'view-audit') && grantCoversStore(g, storeId));
  return nameRanges(grants.flatMap((g) => g.paths));
}

/**
 * Where the names listableNamePattern matches lie (lib/auth/path-glob.ts nameRanges), so a query
 * walks only those ranges of the name index: only a faster way to the same rows. null: anywhere.
 */
export function listableNameRanges(principal: Principal | null, storeId: string): NameRanges | null {
  const grants = (principal?.grants ?? []).filter((g) => roleAllows(g.role, 'list') && grantCoversStore(g, storeId));
  return nameRanges(grants.flatMap((g) => g.paths));
}

/**
 * listableNamePattern narrowed to one folder: null (every name) when a grant covers the folder's whole
 * subtree, so queries there skip the per-row match and counts come from the stored folder counts.
 */
export function listableNamePatternBelow(principal: Principal | null, storeId: string, folder: string): string | null | false {
  const pattern = listableNamePattern(principal, storeId);
  return pattern !== null && pattern !== false && canListSubtree(principal, storeId, folder) ? null : pattern;
}

/**
 * What of the CloudTrail index the principal may read, for its queries: everything (events that map
 * to no item too) for auditors of everything; else, per store, the names their view-audit grants cover.
 */
export function auditScope(principal: Principal | null, storeIds: readonly string[]): AuditScope {
  if (canEverywhere(principal, 'view-audit')) return FULL_SCOPE;
  const stores = storeIds.flatMap((storeId) => {
    const namePattern = namePatternFor(principal, 'view-audit', storeId);
    return namePattern === false ? [] : [{ storeId, namePattern, ranges: namePattern === null ? null : auditableNameRanges(principal, storeId) }];
  });
  return { stores, includeUnmapped: false };
}

function grantsCoverSubtree(principal: Principal | null, action: Action, storeId: string, folder: string): boolean {
  return Boolean(principal?.grants.some((g) => roleAllows(g.role, action) && grantCoversStore(g, storeId) && grantCoversSubtree(g, folder)));
}

/** Whether the principal may list everything at and below a folder (so its counts can be shown). */
export function canListSubtree(principal: Principal | null, storeId: string, folder: string): boolean {
  return grantsCoverSubtree(principal, 'list', storeId, folder);
}

/**
 * Whether the principal may audit everything at and below a folder: an entry about a folder (a
 * refresh of the store, an import, a denial there) is about the whole subtree, so a grant that only
 * reaches the folder on the way to its paths is not enough.
 */
export function canAuditSubtree(principal: Principal | null, storeId: string, folder: string): boolean {
  return grantsCoverSubtree(principal, 'view-audit', storeId, folder);
}

/** Whether the principal may do `action` on every path of every store. */
export function canEverywhere(principal: Principal | null, action: Action): boolean {
  return Boolean(principal?.grants.some((g) => roleAllows(g.role, action) && isUnrestricted(g)));
}

/** Whether the principal may see the thing at all: outside their grants it answers 404, not 403. */
export function canSee(principal: Principal | null, resource: Resource): boolean {
  return can(principal, 'list', resource) || can(principal, 'view-item', resource);
}

export class AuthorizationError extends Error {
  /** 401 without a principal, 404 when the resource is outside their grants, else 403. */
  readonly status: 401 | 403 | 404;
  constructor(status: 401 | 403 | 404, message: string) {
    super(message);
    this.name = 'AuthorizationError';
    this.status = status;
  }
}

function describe(resource: Resource): string {
  if (!resource) return 'dashboard';
  return `${resource.storeId}:${'name' in resource ? resource.name : resource.folder}`;
}

/** Worded exactly as a missing item or folder is, so a refusal does not confirm that it exists. */
export function notFoundMessage(resource: NonNullable<Resource>): string {
  return 'name' in resource
    ? `There is no item ${resource.name} in store "${resource.storeId}".`
    : `There is no folder ${resource.folder} in store "${resource.storeId}".`;
}

/** Allows or throws; every denial goes into the audit log with who, what and when. */
export async function authorize(principal: Principal | null, action: Action, resource?: Resource): Promise<void> {
  if (can(principal, action, resource)) return;
  const status = !principal ? 401 : resource && !canSee(principal, resource) ? 404 : 403;
  await appendAudit({ actor: actorOf(principal), action, target: describe(resource), outcome: 'denied', details: { status } });
  const message =
    status === 401
      ? 'Sign in first.'
      : status === 404
        ? notFoundMessage(resource!)
        : action === 'reveal' && !revealEnabled()
          ? 'Revealing values is turned off on this dashboard.'
          : `Your role does not allow ${action} here; ask an admin for a grant.`;
  throw new AuthorizationError(status, message);
}
