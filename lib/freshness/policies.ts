import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, readEnv } from '@/lib/config/env';
import { STORE_ID_PATTERN, storesFromConfig } from '@/lib/config/stores';
import { at, readConfigFile, type ConfigDocument } from '@/lib/config/yaml-file';
import { checkFolderPath } from '@/lib/validations/item-name';
import { parseDurationDays } from './duration';
import type { FreshnessPolicy } from './types';

// Freshness policies from CONFIG_FILE's `freshness:` section: how old an item under a path may get
// (maxAge) and how long before that it counts as due soon (warnBefore). The longest matching path
// prefix wins; at equal length a policy for the item's store beats one for every store. Without a
// match: 90 days, warned 14 days ahead.
//
//   freshness:
//     - path: /prod/payments/
//       maxAge: 30d            # <n>d, <n>w, <n>h, or a whole number of days
//       warnBefore: 7d         # optional: 14d, or half of maxAge when that is shorter
//       stores: [prod-secrets] # optional; every store when absent

export const DEFAULT_POLICY: FreshnessPolicy = { path: '/', maxAgeDays: 90, warnBeforeDays: 14 };
const DEFAULT_WARN_DAYS = 14;

export interface FreshnessPolicySet {
  /** Most specific first: longer paths, then store-specific before every-store; the default last. */
  readonly policies: readonly FreshnessPolicy[];
  /** Changes whenever any policy does (kept in the inventory to know when to recompute). */
  readonly hash: string;
}

const duration = (field: string) =>
  z.unknown().transform((value, ctx) => {
    if (value === undefined || value === null) {
      ctx.addIssue({ code: 'custom', message: `${field} is required, e.g. 90d` });
      return z.NEVER;
    }
    const parsed = parseDurationDays(value);
    if ('problem' in parsed) {
      ctx.addIssue({ code: 'custom', message: `${field} ${parsed.problem}` });
      return z.NEVER;
    }
    return parsed.days;
  });

const KEYS = ['path', 'maxAge', 'warnBefore', 'stores'];
const entrySchema = z
  .strictObject(
    {
      path: z
        .string({ error: 'path is required: a folder path such as /prod/payments/ (or / for everything)' })
        .superRefine((path, ctx) => {
          const problem = checkFolderPath(path);
          if (problem) ctx.addIssue({ code: 'custom', message: `path "${path.slice(0, 80)}": ${problem.message}` });
        }),
      maxAge: duration('maxAge'),
      warnBefore: duration('warnBefore').optional(),
      stores: z
        .array(z.string().regex(STORE_ID_PATTERN, { message: 'stores must list store ids' }), { message: 'stores must be a list of store ids' })
        .min(1, { message: 'stores must list at least one store (or be left out for every store)' })
        .optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}; expected ${KEYS.join(', ')}` : undefined) },
  )
  .transform((entry, ctx) => {
    const warnBeforeDays = entry.warnBefore ?? Math.min(DEFAULT_WARN_DAYS, entry.maxAge / 2);
    if (warnBeforeDays >= entry.maxAge) {
      ctx.addIssue({ code: 'custom', path: ['warnBefore'], message: 'warnBefore must be shorter than maxAge' });
      return z.NEVER;
    }
    const policy: FreshnessPolicy = { path: entry.path, maxAgeDays: entry.maxAge, warnBeforeDays };
    if (entry.stores) policy.stores = [...new Set(entry.stores)].sort();
    return policy;
  });

const sectionSchema = z.object({
  freshness: z.array(entrySchema, { message: 'freshness must be a list of { path, maxAge, warnBefore, stores }' }).nullish(),
});

function problems(title: string, lines: string[]): ConfigError {
  return new ConfigError(`${title}:\n  ${lines.join('\n  ')}`);
}

/** The validated policies of a parsed config file (without the default); every problem names the file and line. */
export function policiesFromConfig(config: ConfigDocument, knownStores?: readonly string[]): FreshnessPolicy[] {
  const parsed = sectionSchema.safeParse(config.raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 1 ? `freshness[${String(issue.path[1])}]` : 'freshness';
      return `${at(config, issue.path)}: ${where}: ${issue.message}`;
    });
    throw problems('The freshness policies in the configuration file have problems', lines);
  }
  const policies = parsed.data.freshness ?? [];

  // Two entries for the same path that both cover a store leave it undecided which one applies.
  const clashes: string[] = [];
  const seen = new Map<string, number>();
  policies.forEach((policy, index) => {
    for (const store of policy.stores ?? ['*']) {
      const key = `${policy.path}\n${store}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else
        clashes.push(
          `${at(config, ['freshness', index, 'path'])}: freshness[${index}]: path ${policy.path} ${store === '*' ? 'for every store' : `for store "${store}"`} is already set by freshness[${first}]; give each path (and store) one policy`,
        );
    }
  });
  if (clashes.length) throw problems('The freshness policies in the configuration file repeat themselves', [...new Set(clashes)]);

  const named = policies.some((p) => p.stores);
  if (named) {
    const known = knownStores ?? storesFromConfig(config).map((s) => s.id);
    const unknown = policies.flatMap((policy, index) =>
      (policy.stores ?? [])
        .filter((s) => !known.includes(s))
        .map((s) => `${at(config, ['freshness', index, 'stores'])}: freshness[${index}]: store "${s}" is not configured (known: ${known.join(', ')})`),
    );
    if (unknown.length) throw problems('The freshness policies in the configuration file name unknown stores', unknown);
  }
  return policies;
}

function specificity(a: FreshnessPolicy, b: FreshnessPolicy): number {
  return b.path.length - a.path.length || Number(Boolean(b.stores)) - Number(Boolean(a.stores)) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** Policies ordered for lookup, with the default appended unless an every-store "/" policy replaces it. */
export function policySet(configured: readonly FreshnessPolicy[]): FreshnessPolicySet {
  const policies = [...configured].sort(specificity);
  if (!policies.some((p) => p.path === '/' && !p.stores)) policies.push(DEFAULT_POLICY);
  const canonical = policies.map((p) => [p.path, p.stores ?? null, p.maxAgeDays, p.warnBeforeDays]);
  const hash = createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 22);
  return { policies, hash };
}

/** The policy for an item: the longest path prefix of its name, a store's own before every store's. */
export function resolvePolicy(set: FreshnessPolicySet, storeId: string, name: string): FreshnessPolicy {
  for (const policy of set.policies) {
    if (policy.stores && !policy.stores.includes(storeId)) continue;
    if (name.startsWith(policy.path)) return policy;
  }
  return DEFAULT_POLICY;
}

const g = globalThis as unknown as { __freshnessPolicies?: FreshnessPolicySet };

/**
 * The process's policies, read from CONFIG_FILE once (like the grants): the inventory stores each
 * item's due dates computed with them, so they must not change under a running process.
 */
export function freshnessPolicies(): FreshnessPolicySet {
  if (!g.__freshnessPolicies) {
    const file = readEnv().CONFIG_FILE;
    g.__freshnessPolicies = policySet(file ? policiesFromConfig(readConfigFile(file)) : []);
  }
  return g.__freshnessPolicies;
}

/** Forgets the loaded policies (tests change CONFIG_FILE between cases). */
export function resetFreshnessPolicies(): void {
  g.__freshnessPolicies = undefined;
}
