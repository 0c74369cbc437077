// Does a configuration value look like a secret? For Lambda environment variables and ECS
// `environment` entries, which AWS returns in plain text: a value is examined in memory, the answer
// is only the detector's name, and the value is dropped (never stored, logged or returned).

export interface SecretDetector {
  name: string;
  description: string;
  test(value: string): boolean;
}

/** Known key formats: each a prefix and shape the issuer documents, so they rarely match by chance. */
const FORMATS: readonly { name: string; description: string; pattern: RegExp }[] = [
  { name: 'aws-access-key-id', description: 'AWS access key id', pattern: /\b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/ },
  { name: 'github-token', description: 'GitHub token', pattern: /\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b/ },
  { name: 'gitlab-token', description: 'GitLab personal access token', pattern: /\bglpat-[A-Za-z0-9_-]{20}\b/ },
  { name: 'slack-token', description: 'Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { name: 'stripe-secret-key', description: 'Stripe secret or restricted key', pattern: /\b[sr]k_(live|test)_[A-Za-z0-9]{20,}\b/ },
  { name: 'google-api-key', description: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'private-key', description: 'PEM private key', pattern: /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/ },
  { name: 'json-web-token', description: 'JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/ },
  { name: 'url-with-password', description: 'URL with a password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]{3,}@[^\s]+/i },
];

/** Bits per character of the value's own character distribution. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A long token of mixed letters and digits with little repetition: what generated secrets look like
 * (40 random base64 characters carry ~5 bits each). UUIDs, ARNs, URLs, paths and hex digests of
 * build ids are common configuration and are left alone.
 */
function looksRandom(value: string): boolean {
  const v = value.trim();
  if (v.length < 20 || v.length > 512 || /\s/.test(v)) return false;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return false; // a UUID
  if (/^(arn:|https?:\/\/|\/)/.test(v) || v.includes('.amazonaws.com')) return false; // ARNs, URLs, paths
  if (/^[0-9a-f]+$/i.test(v) && v.length !== 40 && v.length !== 64) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(v)).length;
  if (classes < 2) return false;
  return shannonEntropy(v) >= (v.length >= 32 ? 4.3 : 4.0);
}

export const SECRET_DETECTORS: readonly SecretDetector[] = [
  ...FORMATS.map((f) => ({ name: f.name, description: f.description, test: (value: string) => f.pattern.test(value) })),
  { name: 'high-entropy', description: 'High-entropy string', test: looksRandom },
];

/** The first detector a value trips, or null. The value is not kept. */
export function detectSecret(value: string): string | null {
  if (value.length < 8) return null;
  for (const detector of SECRET_DETECTORS) if (detector.test(value)) return detector.name;
  return null;
}
