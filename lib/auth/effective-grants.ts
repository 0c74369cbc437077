import 'server-only';
import { getStores } from '@/lib/stores/registry';
import { grantsFor, loadGrantRules, type Grant, type GrantRule } from './grants';
import type { Role } from './roles';

// A user's grants: the CONFIG_FILE grants naming them by email, or else their own role on every
// path; plus the grants of their identity-provider groups.

const globalForGrants = globalThis as unknown as { __grantRules?: GrantRule[] };

export async function grantRules(): Promise<GrantRule[]> {
  if (!globalForGrants.__grantRules) {
    const storeIds = (await getStores()).map((s) => s.id);
    globalForGrants.__grantRules = loadGrantRules(storeIds);
  }
  return globalForGrants.__grantRules;
}

/** Forgets the cached rules (tests change CONFIG_FILE between cases). */
export function resetGrantRules(): void {
  globalForGrants.__grantRules = undefined;
}

export function effectiveGrants(rules: GrantRule[], user: { email: string; role: Role | null; groups: string[] }): Grant[] {
  const byEmail = grantsFor(rules.filter((r) => r.user !== undefined), { email: user.email, groups: [] });
  const byGroup = grantsFor(rules.filter((r) => r.group !== undefined), { email: user.email, groups: user.groups });
  const own: Grant[] = byEmail.length ? byEmail : user.role ? [{ role: user.role, stores: null, paths: ['/**'] }] : [];
  return [...own, ...byGroup];
}
