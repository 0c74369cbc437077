import { z } from 'zod';

// What a Secrets Manager resource policy lets in: anyone (a "*" principal whose Allow no condition
// narrows to an account, an organisation, a source or a VPC), or principals of other accounts.
// Read from GetResourcePolicy, which returns the policy document and never the secret's value.

/** Condition keys that narrow a "*" principal to known callers (Prowler's and AWS's own reading). */
const NARROWING_KEYS = [
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:sourceaccount',
  'aws:sourcearn',
  'aws:sourceowner',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:userid',
  'aws:calledvia',
];

const statementSchema = z.object({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Principal: z.union([z.literal('*'), z.record(z.string(), z.union([z.string(), z.array(z.string())]))]).optional(),
  NotPrincipal: z.unknown().optional(),
  Action: z.union([z.string(), z.array(z.string())]).optional(),
  NotAction: z.union([z.string(), z.array(z.string())]).optional(),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
const policySchema = z.object({
  Version: z.string().optional(),
  Statement: z.union([statementSchema, z.array(statementSchema)]),
});

export interface PolicyStatementSummary {
  sid: string | null;
  actions: string[];
  principals: string[];
  conditions: string[];
}

export interface PolicyAnalysis {
  /** Allow statements open to anyone. */
  public: PolicyStatementSummary[];
  /** Allow statements naming principals of other accounts, with those accounts. */
  crossAccount: { accounts: string[]; statement: PolicyStatementSummary }[];
}

export type PolicyReading =
  | { outcome: 'none' }
  | { outcome: 'policy'; analysis: PolicyAnalysis }
  | { outcome: 'error'; problem: string };

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The account a principal belongs to: "123456789012", "arn:aws:iam::123456789012:role/x", or null for services and "*". */
function accountOfPrincipal(principal: string): string | null {
  if (/^\d{12}$/.test(principal)) return principal;
  const match = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal);
  return match ? match[1]! : null;
}

/** Reads a policy document; anything that does not parse is a problem in words, never thrown. */
export function analysePolicy(text: string, ownAccount: string | null): PolicyReading {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { outcome: 'error', problem: 'The resource policy is not valid JSON.' };
  }
  const parsed = policySchema.safeParse(json);
  if (!parsed.success) return { outcome: 'error', problem: `The resource policy does not have the shape of an IAM policy (${parsed.error.issues[0]?.message ?? 'unreadable'}).` };
  const statements = Array.isArray(parsed.data.Statement) ? parsed.data.Statement : [parsed.data.Statement];
  const analysis: PolicyAnalysis = { public: [], crossAccount: [] };
  for (const s of statements) {
    if (s.Effect !== 'Allow' || s.Principal === undefined) continue;
    const principals = s.Principal === '*' ? ['*'] : Object.values(s.Principal).flatMap(list);
    const conditions = Object.values(s.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
    const summary: PolicyStatementSummary = { sid: s.Sid ?? null, actions: [...list(s.Action), ...list(s.NotAction).map((a) => `not ${a}`)], principals, conditions };
    const narrowed = conditions.some((key) => NARROWING_KEYS.includes(key.toLowerCase()));
    if (principals.includes('*') && !narrowed) analysis.public.push(summary);
    const others = [...new Set(principals.map(accountOfPrincipal).filter((a): a is string => a !== null && a !== ownAccount))];
    if (others.length > 0) analysis.crossAccount.push({ accounts: others, statement: summary });
  }
  return { outcome: 'policy', analysis };
}
