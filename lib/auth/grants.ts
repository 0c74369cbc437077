import { z } from 'zod';
import { ConfigError, readEnv } from '@/lib/config/env';
import { at, readConfigFile, type ConfigDocument } from '@/lib/config/yaml-file';
import { globCoversSubtree, globMatchesName, globProblem, globReachesFolder } from './path-glob';
import { ROLES, type Role } from './roles';

// Path-scoped grants from CONFIG_FILE's `grants:` section: who (a user's email or an identity
// provider group) has which role on which path globs of which stores.
//
//   grants:
//     - group: payments-leads
//       role: operator
//       paths: [/prod/payments/**]
//       stores: [prod-params]      # optional; every store when absent

export interface Grant {
  role: Role;
  /** Store ids, or null for every store. */
  stores: string[] | null;
  paths: string[];
}

export interface GrantRule extends Grant {
  user?: string;
  group?: string;
}

const pathGlob = z.string().superRefine((glob, ctx) => {
  const problem = globProblem(glob);
  if (problem) ctx.addIssue({ code: 'custom', message: `"${glob}": ${problem}` });
});

const grantRuleSchema = z
  .strictObject(
    {
      user: z.email({ message: 'user must be an email address' }).optional(),
      group: z.string().trim().min(1, { message: 'group must not be empty' }).max(256).optional(),
      role: z.enum(ROLES, { message: `role must be one of ${ROLES.join(', ')}` }),
      paths: z.array(pathGlob, { message: 'paths must be a list of path globs such as /prod/payments/**' }).min(1, { message: 'paths must list at least one glob' }),
      stores: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'stores must list store ids' })).min(1).optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}; expected user or group, role, paths, stores` : undefined) },
  )
  .refine((rule) => (rule.user === undefined) !== (rule.group === undefined), { message: 'give exactly one of user or group' });

const grantsSectionSchema = z.object({ grants: z.array(grantRuleSchema, { message: 'grants must be a list' }).optional() });

/** The validated grants of a parsed config file; every problem names the file and line. */
export function grantsFromConfig(config: ConfigDocument, knownStores?: string[]): GrantRule[] {
  const parsed = grantsSectionSchema.safeParse(config.raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 1 ? `grants[${String(issue.path[1])}]` : 'grants';
      return `${at(config, issue.path)}: ${where}: ${issue.message}`;
    });
    throw new ConfigError(`The grants in the configuration file have problems:\n  ${lines.join('\n  ')}`);
  }
  const rules = (parsed.data.grants ?? []).map((rule) => ({ ...rule, stores: rule.stores ?? null }));
  if (knownStores) {
    const unknown = rules.flatMap((rule, index) =>
      (rule.stores ?? []).filter((s) => !knownStores.includes(s)).map((s) => `${at(config, ['grants', index, 'stores'])}: grants[${index}]: store "${s}" is not configured (known: ${knownStores.join(', ')})`),
    );
    if (unknown.length) throw new ConfigError(`The grants in the configuration file name unknown stores:\n  ${unknown.join('\n  ')}`);
  }
  return rules;
}

export function loadGrantRules(knownStores?: string[]): GrantRule[] {
  const env = readEnv();
  return env.CONFIG_FILE ? grantsFromConfig(readConfigFile(env.CONFIG_FILE), knownStores) : [];
}

/** The grants that apply to someone, given their email and identity-provider groups. */
export function grantsFor(rules: GrantRule[], identity: { email: string; groups: string[] }): Grant[] {
  const email = identity.email.toLowerCase();
  return rules
    .filter((r) => (r.user !== undefined ? r.user.toLowerCase() === email : identity.groups.includes(r.group!)))
    .map(({ role, stores, paths }) => ({ role, stores, paths }));
}

export function grantCoversStore(grant: Grant, storeId: string): boolean {
  return grant.stores === null || grant.stores.includes(storeId);
}

// What a grant's paths hold, each asked of the one matcher (lib/auth/path-glob.ts).

/** Whether an item name lies inside one of the grant's globs. */
export function grantCoversName(grant: Grant, name: string): boolean {
  return grant.paths.some((glob) => globMatchesName(glob, name));
}

/**
 * Whether a folder leads to or lies inside one of the grant's globs: a user granted
 * /prod/payments/** sees the folders /prod/ and /prod/payments/ (to get there) and everything
 * below, but not /prod/web/.
 */
export function grantReachesFolder(grant: Grant, folder: string): boolean {
  return grant.paths.some((glob) => globReachesFolder(glob, folder));
}

/** Whether the grant covers every name below a folder (so the folder's counts can be shown as they are). */
export function grantCoversSubtree(grant: Grant, folder: string): boolean {
  return grant.paths.some((glob) => globCoversSubtree(glob, folder));
}

/** A grant on every path of every store. */
export function isUnrestricted(grant: Grant): boolean {
  return grant.stores === null && grantCoversSubtree(grant, '/');
}
