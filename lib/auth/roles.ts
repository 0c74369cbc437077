// Roles and what each may do. The only place this is decided; lib/auth/authorize.ts applies it.

export const ROLES = ['viewer', 'auditor', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = ['list', 'view-item', 'view-audit', 'rotate', 'generate', 'schedule-rotation', 'reveal', 'refresh-inventory', 'manage-users', 'create-token', 'suppress-finding', 'manage-alerts', 'verify-audit-chain'] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions about one store path; the others are about the whole dashboard. */
export const PATH_ACTIONS: readonly Action[] = ['list', 'view-item', 'view-audit', 'rotate', 'generate', 'schedule-rotation', 'reveal', 'refresh-inventory', 'suppress-finding'];

/** Path actions on a whole store at once: they need a grant covering every path of it. */
export const STORE_ACTIONS: readonly Action[] = ['refresh-inventory'];

const VIEWER: Action[] = ['list', 'view-item'];
export const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  viewer: VIEWER,
  // Findings carry CloudTrail evidence: seen with view-audit; suppressed by reviewers and admins.
  auditor: [...VIEWER, 'view-audit', 'suppress-finding'],
  operator: [...VIEWER, 'rotate', 'generate', 'refresh-inventory'],
  // manage-alerts: silences and channel tests change who gets paged, for every store: admins only.
  // verify-audit-chain: a full pass over the whole own log on demand (minutes of a replica's time): admins only.
  admin: ACTIONS,
};

export function roleAllows(role: Role, action: Action): boolean {
  return ROLE_ACTIONS[role].includes(action);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
