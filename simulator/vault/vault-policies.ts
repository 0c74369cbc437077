import { z } from 'zod';

// Vault's ACL policies, the subset the simulator needs: a policy is a set of path rules, each a
// list of capabilities. Paths are matched as Vault matches them:
//
// - an exact path matches only itself;
// - a path ending in `*` matches every path it is a prefix of (`*` is allowed only at the end);
// - `+` stands for exactly one path segment (`secret/data/+/config`), anywhere in the path;
// - when several policies name the same path, their capabilities are unioned (`deny` wins);
// - when several rules match, the most specific one decides alone, by Vault's priority rules:
//   an exact match first; then, between two patterns P1 and P2, P1 is lower when its first `+` or
//   `*` comes earlier, when it ends in `*` and P2 does not, when it has more `+` segments, when it is
//   shorter, and when it sorts lower.
// - `deny` in the deciding rule refuses everything; `root` allows everything.
//
// Not implemented: `allowed_parameters`/`denied_parameters`/`required_parameters`, `min_wrapping_ttl`,
// control groups, Sentinel, the `sudo` capability's special meaning, `patch` and `subscribe`,
// templated paths (`{{identity.entity.id}}`) and HCL syntax (policies are given as JSON objects).

export const CAPABILITIES = ['create', 'read', 'update', 'delete', 'list', 'sudo', 'patch', 'deny'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const policyInput = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and -'),
  /** Path pattern → capabilities, as a policy's `path "…" { capabilities = [...] }` blocks. */
  paths: z.record(z.string().min(1), z.array(z.enum(CAPABILITIES))),
});
export type VaultPolicyInput = z.input<typeof policyInput>;

/** The operation of a request, as Vault names it in ACL checks and the audit log. */
export type VaultOperation = 'create' | 'read' | 'update' | 'delete' | 'list';

interface Rule {
  pattern: string;
  glob: boolean;
  /** The pattern without a trailing `*`, split on `/` (for `+` matching). */
  segments: string[];
  plusCount: number;
  firstWildcard: number;
  capabilities: Set<Capability>;
}

function toRule(pattern: string, capabilities: Set<Capability>): Rule {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  if (body.includes('*')) throw new Error(`policy path "${pattern}": "*" is allowed only at the end`);
  const segments = body.split('/');
  const plusAt = segments.findIndex((s) => s === '+');
  const firstPlus = plusAt < 0 ? Infinity : segments.slice(0, plusAt).join('/').length + (plusAt > 0 ? 1 : 0);
  const firstWildcard = Math.min(firstPlus, glob ? body.length : Infinity);
  return { pattern, glob, segments, plusCount: segments.filter((s) => s === '+').length, firstWildcard, capabilities };
}

function matches(rule: Rule, path: string): boolean {
  if (rule.plusCount === 0) return rule.glob ? path.startsWith(rule.segments.join('/')) : path === rule.pattern;
  const parts = path.split('/');
  const n = rule.segments.length;
  if (parts.length < n || (!rule.glob && parts.length !== n)) return false;
  for (let i = 0; i < n; i++) {
    const want = rule.segments[i]!;
    const got = parts[i]!;
    if (i === n - 1 && rule.glob) return want === '+' ? true : got.startsWith(want);
    if (want === '+') {
      if (got === '') return false;
    } else if (want !== got) return false;
  }
  return true;
}

/** Whether `a` has a lower priority than `b` (Vault's rules for two matching patterns). */
function lower(a: Rule, b: Rule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  if (a.glob !== b.glob) return a.glob;
  if (a.plusCount !== b.plusCount) return a.plusCount > b.plusCount;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length < b.pattern.length;
  return a.pattern < b.pattern;
}

/** The ACL of a token: its policies' rules, merged as Vault merges them. */
export class Acl {
  private readonly exact = new Map<string, Rule>();
  private readonly patterns: Rule[] = [];
  readonly root: boolean;

  constructor(policies: readonly VaultPolicyInput[], names: readonly string[]) {
    this.root = names.includes('root');
    const merged = new Map<string, Set<Capability>>();
    for (const policy of policies) {
      if (!names.includes(policy.name)) continue;
      for (const [pattern, caps] of Object.entries(policy.paths)) {
        const key = pattern.replace(/^\/+/, '');
        const set = merged.get(key) ?? new Set<Capability>();
        for (const c of caps) set.add(c);
        merged.set(key, set);
      }
    }
    for (const [pattern, caps] of merged) {
      const rule = toRule(pattern, caps);
      if (!rule.glob && rule.plusCount === 0) this.exact.set(pattern, rule);
      else this.patterns.push(rule);
    }
  }

  /** The rule that decides for `path` (exact first, then the highest-priority pattern), or null. */
  decidingRule(path: string): Rule | null {
    const exact = this.exact.get(path);
    if (exact) return exact;
    let best: Rule | null = null;
    for (const rule of this.patterns) if (matches(rule, path) && (!best || lower(best, rule))) best = rule;
    return best;
  }

  /** The capabilities the token has on `path` (Vault's `sys/capabilities-self` answer). */
  capabilities(path: string): Capability[] | ['root'] {
    if (this.root) return ['root'];
    const rule = this.decidingRule(path);
    if (!rule) return ['deny'];
    if (rule.capabilities.has('deny')) return ['deny'];
    return [...rule.capabilities].sort();
  }

  allows(path: string, operation: VaultOperation): boolean {
    if (this.root) return true;
    const rule = this.decidingRule(path);
    return !!rule && !rule.capabilities.has('deny') && rule.capabilities.has(operation);
  }

  /** Whether the token may do anything at all under `prefix` (what `sys/internal/ui/mounts/<mount>` asks). */
  anyAccessUnder(prefix: string): boolean {
    if (this.root) return true;
    const usable = (r: Rule) => [...r.capabilities].some((c) => c !== 'deny');
    for (const rule of this.exact.values()) if (rule.pattern.startsWith(prefix) && usable(rule)) return true;
    return this.patterns.some((r) => usable(r) && (r.pattern.startsWith(prefix) || matches(r, prefix)));
  }
}
