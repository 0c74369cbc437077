import { z } from 'zod';

// Every setting the app reads from the environment, validated once. The README lists them.
const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((v) => v === '1' || v === 'true');

/** An unset variable and an empty one mean the same. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const envSchema = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  /** postgres://user:password@host:5432/database: the app's data and the built-in store move to PostgreSQL (several replicas share it). */
  DATABASE_URL: unsetIfEmpty(
    z
      .string()
      .regex(/^postgres(ql)?:\/\/[^\s]+$/, {
        message: 'DATABASE_URL must be a PostgreSQL URL: postgres://user:password@host:5432/database (unset it to keep SQLite under DATA_DIR)',
      })
      .refine((v) => URL.canParse(v) && new URL(v).hostname !== '' && new URL(v).pathname.length > 1, {
        message: 'DATABASE_URL must name a host and a database: postgres://user:password@host:5432/database',
      }),
  ),
  MASTER_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || Buffer.from(v, 'base64').length === 32, {
      message: 'MASTER_KEY must be the base64 encoding of exactly 32 bytes (try: openssl rand -base64 32)',
    }),
  DEMO_DATA: flag,
  /**
   * Store ids served by the demo's simulated AWS organisation (set by scripts/demo-aws.mjs for
   * DEMO_DATA=1 npm start): every page says these stores are simulated.
   */
  SIMULATED_AWS_STORES: z
    .string()
    .regex(/^([a-z0-9][a-z0-9-]{0,62}(,[a-z0-9][a-z0-9-]{0,62})*)?$/, {
      message: 'SIMULATED_AWS_STORES must be store ids separated by commas, e.g. sim-prod-ssm,sim-prod-secrets',
    })
    .default('')
    .transform((v) => (v === '' ? [] : v.split(','))),
  /**
   * A KMS key (id, ARN or alias) that seals the master key: the master key is kept only as a KMS
   * ciphertext (DATA_DIR/master.key.kms, or the database with DATABASE_URL) and decrypted once at start.
   */
  MASTER_KEY_KMS_KEY_ID: unsetIfEmpty(
    z
      .string()
      .max(2048)
      .regex(/^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w\/+=,.@-]+|alias\/[\w\/+=,.@-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/, {
        message: 'MASTER_KEY_KMS_KEY_ID must be a KMS key id, key ARN, alias name (alias/…) or alias ARN',
      }),
  ),
  /** The KMS key's region (default: AWS_REGION, then us-east-1). */
  MASTER_KEY_KMS_REGION: unsetIfEmpty(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'MASTER_KEY_KMS_REGION must be an AWS region such as eu-west-1' })),
  /** Another KMS endpoint (a VPC endpoint, or a fake AWS in tests). */
  MASTER_KEY_KMS_ENDPOINT: unsetIfEmpty(z.url({ message: 'MASTER_KEY_KMS_ENDPOINT must be a URL such as https://kms.eu-west-1.amazonaws.com' })),
  /** Names this deployment in the KMS encryption context (and in audit anchors): a ciphertext of another deployment does not open here. */
  DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { message: 'DEPLOYMENT_NAME must be 1–63 letters, digits, dots, dashes or underscores' })
    .default('secrets-dashboard'),
  /** An S3 bucket that receives the audit chain's anchors (with Object Lock where the bucket has it). */
  AUDIT_ANCHOR_S3_BUCKET: unsetIfEmpty(
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'AUDIT_ANCHOR_S3_BUCKET must be an S3 bucket name (3–63 lowercase letters, digits, dots, dashes)' }),
  ),
  AUDIT_ANCHOR_S3_PREFIX: z
    .string()
    .max(200)
    .regex(/^[\w!\-.*'()/]*$/, { message: 'AUDIT_ANCHOR_S3_PREFIX may hold letters, digits and !-_.*\'()/ only' })
    .default('audit-anchors/'),
  AUDIT_ANCHOR_S3_REGION: unsetIfEmpty(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'AUDIT_ANCHOR_S3_REGION must be an AWS region such as eu-west-1' })),
  /** Another S3 endpoint (path-style; a fake AWS in tests). */
  AUDIT_ANCHOR_S3_ENDPOINT: unsetIfEmpty(z.url({ message: 'AUDIT_ANCHOR_S3_ENDPOINT must be a URL' })),
  /** Days each anchor object is locked for (Object Lock retention) when the bucket has Object Lock. */
  AUDIT_ANCHOR_RETENTION_DAYS: z.coerce
    .number({ message: 'AUDIT_ANCHOR_RETENTION_DAYS must be a whole number of days' })
    .int({ message: 'AUDIT_ANCHOR_RETENTION_DAYS must be a whole number of days' })
    .min(1, { message: 'AUDIT_ANCHOR_RETENTION_DAYS must be at least 1' })
    .max(36500, { message: 'AUDIT_ANCHOR_RETENTION_DAYS must be at most 36500' })
    .default(400),
  /** An anchor every this many entries (and every AUDIT_ANCHOR_INTERVAL_MINUTES). */
  AUDIT_ANCHOR_EVERY: z.coerce
    .number({ message: 'AUDIT_ANCHOR_EVERY must be a whole number of entries' })
    .int({ message: 'AUDIT_ANCHOR_EVERY must be a whole number of entries' })
    .min(1, { message: 'AUDIT_ANCHOR_EVERY must be at least 1' })
    .max(1_000_000, { message: 'AUDIT_ANCHOR_EVERY must be at most 1000000' })
    .default(1000),
  AUDIT_ANCHOR_INTERVAL_MINUTES: z.coerce
    .number({ message: 'AUDIT_ANCHOR_INTERVAL_MINUTES must be a number of minutes' })
    .min(0.05, { message: 'AUDIT_ANCHOR_INTERVAL_MINUTES must be at least 0.05 (3 seconds)' })
    .max(24 * 60, { message: 'AUDIT_ANCHOR_INTERVAL_MINUTES must be at most 1440 (a day)' })
    .default(60),
  /** The whole audit chain is verified again in the background this often (new entries are checked as they come). */
  AUDIT_FULL_VERIFY_HOURS: z.coerce
    .number({ message: 'AUDIT_FULL_VERIFY_HOURS must be a number of hours' })
    .min(0.01, { message: 'AUDIT_FULL_VERIFY_HOURS must be at least 0.01 (36 seconds)' })
    .max(24 * 30, { message: 'AUDIT_FULL_VERIFY_HOURS must be at most 720 (30 days)' })
    .default(24),
  CONFIG_FILE: z.string().optional(),
  ALLOW_REVEAL: flag,
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  IDLE_TIMEOUT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  ADMIN_EMAIL: unsetIfEmpty(z.email({ message: 'ADMIN_EMAIL must be an email address' })),
  ADMIN_PASSWORD: unsetIfEmpty(z.string().min(12, { message: 'ADMIN_PASSWORD must be at least 12 characters' })),
  OIDC_ISSUER: unsetIfEmpty(z.url({ message: 'OIDC_ISSUER must be the issuer URL, e.g. https://example.okta.com' })),
  OIDC_CLIENT_ID: unsetIfEmpty(z.string().min(1)),
  OIDC_CLIENT_SECRET: unsetIfEmpty(z.string().min(1)),
  OIDC_NAME: z.string().min(1).max(50).default('Single sign-on'),
  OIDC_GROUPS_CLAIM: z.string().min(1).max(100).default('groups'),
  OIDC_SCOPE: z.string().min(1).default('openid email profile'),
  GITHUB_ID: unsetIfEmpty(z.string().min(1)),
  GITHUB_SECRET: unsetIfEmpty(z.string().min(1)),
  /**
   * Let a sign-in whose identity is bound to no account yet reach the existing account with its
   * email, when the provider says the email is verified (OIDC email_verified; GitHub's verified
   * primary address). Off: such a sign-in is refused (lib/auth/external-sign-in.ts).
   */
  OIDC_LINK_VERIFIED_EMAIL: flag,
  GITHUB_LINK_VERIFIED_EMAIL: flag,
  SYNC_INTERVAL_MINUTES: z.coerce
    .number({ message: 'SYNC_INTERVAL_MINUTES must be a number of minutes' })
    .min(0.05, { message: 'SYNC_INTERVAL_MINUTES must be at least 0.05 (3 seconds)' })
    .max(24 * 60, { message: 'SYNC_INTERVAL_MINUTES must be at most 1440 (a day)' })
    .default(10),
  SYNC_MAX_ATTEMPTS: z.coerce
    .number({ message: 'SYNC_MAX_ATTEMPTS must be a whole number' })
    .int({ message: 'SYNC_MAX_ATTEMPTS must be a whole number' })
    .min(1, { message: 'SYNC_MAX_ATTEMPTS must be at least 1' })
    .max(50, { message: 'SYNC_MAX_ATTEMPTS must be at most 50' })
    .default(8),
  AUDIT_RETENTION_DAYS: z.coerce
    .number({ message: 'AUDIT_RETENTION_DAYS must be a whole number of days' })
    .int({ message: 'AUDIT_RETENTION_DAYS must be a whole number of days' })
    .min(1, { message: 'AUDIT_RETENTION_DAYS must be at least 1' })
    .max(3650, { message: 'AUDIT_RETENTION_DAYS must be at most 3650 (ten years)' })
    .default(400),
  CLOUDTRAIL_SYNC_INTERVAL_MINUTES: z.coerce
    .number({ message: 'CLOUDTRAIL_SYNC_INTERVAL_MINUTES must be a number of minutes' })
    .min(0.05, { message: 'CLOUDTRAIL_SYNC_INTERVAL_MINUTES must be at least 0.05 (3 seconds)' })
    .max(24 * 60, { message: 'CLOUDTRAIL_SYNC_INTERVAL_MINUTES must be at most 1440 (a day)' })
    .default(5),
  /** How often findings are evaluated again when their inputs (inventory, CloudTrail, the hour) changed. */
  FINDINGS_INTERVAL_MINUTES: z.coerce
    .number({ message: 'FINDINGS_INTERVAL_MINUTES must be a number of minutes' })
    .min(0.05, { message: 'FINDINGS_INTERVAL_MINUTES must be at least 0.05 (3 seconds)' })
    .max(24 * 60, { message: 'FINDINGS_INTERVAL_MINUTES must be at most 1440 (a day)' })
    .default(5),
  /** Findings sm-unused and not-read-recently: days without use. */
  FINDINGS_UNUSED_DAYS: z.coerce
    .number({ message: 'FINDINGS_UNUSED_DAYS must be a whole number of days' })
    .int({ message: 'FINDINGS_UNUSED_DAYS must be a whole number of days' })
    .min(1, { message: 'FINDINGS_UNUSED_DAYS must be at least 1' })
    .max(3650, { message: 'FINDINGS_UNUSED_DAYS must be at most 3650' })
    .default(90),
  /** Finding sm-rotated-periodically: days a secret may go without rotation (Security Hub's default, 90). */
  FINDINGS_MAX_ROTATION_DAYS: z.coerce
    .number({ message: 'FINDINGS_MAX_ROTATION_DAYS must be a whole number of days' })
    .int({ message: 'FINDINGS_MAX_ROTATION_DAYS must be a whole number of days' })
    .min(1, { message: 'FINDINGS_MAX_ROTATION_DAYS must be at least 1' })
    .max(3650, { message: 'FINDINGS_MAX_ROTATION_DAYS must be at most 3650' })
    .default(90),
  /** Finding old-version-read-after-rotation: days after a change that readers may still ask for the previous version. */
  FINDINGS_OLD_VERSION_GRACE_DAYS: z.coerce
    .number({ message: 'FINDINGS_OLD_VERSION_GRACE_DAYS must be a whole number of days' })
    .int({ message: 'FINDINGS_OLD_VERSION_GRACE_DAYS must be a whole number of days' })
    .min(1, { message: 'FINDINGS_OLD_VERSION_GRACE_DAYS must be at least 1' })
    .max(365, { message: 'FINDINGS_OLD_VERSION_GRACE_DAYS must be at most 365' })
    .default(7),
  /** Secrets Manager resource policies read in the background (GetResourcePolicy), per store and second. */
  FINDINGS_POLICY_READS_PER_SECOND: z.coerce
    .number({ message: 'FINDINGS_POLICY_READS_PER_SECOND must be a number of calls per second' })
    .positive({ message: 'FINDINGS_POLICY_READS_PER_SECOND must be above 0' })
    .max(50, { message: "FINDINGS_POLICY_READS_PER_SECOND must be at most 50 (AWS's quota for GetResourcePolicy)" })
    .default(2),
  /** How old a resource policy reading may get before it is read again. */
  FINDINGS_POLICY_REFRESH_HOURS: z.coerce
    .number({ message: 'FINDINGS_POLICY_REFRESH_HOURS must be a number of hours' })
    .min(0.01, { message: 'FINDINGS_POLICY_REFRESH_HOURS must be at least 0.01' })
    .max(24 * 30, { message: 'FINDINGS_POLICY_REFRESH_HOURS must be at most 720 (30 days)' })
    .default(24),
  /** Lambda and ECS reads of the consumer scan (ListFunctions, ListTaskDefinitions, DescribeTaskDefinition, DescribeSecret), per AWS connection and second. */
  FINDINGS_CONSUMER_READS_PER_SECOND: z.coerce
    .number({ message: 'FINDINGS_CONSUMER_READS_PER_SECOND must be a number of calls per second' })
    .positive({ message: 'FINDINGS_CONSUMER_READS_PER_SECOND must be above 0' })
    .max(20, { message: "FINDINGS_CONSUMER_READS_PER_SECOND must be at most 20 (ECS's sustained rate for DescribeTaskDefinition)" })
    .default(2),
  /** How old a connection's consumer scan may get before it runs again. */
  FINDINGS_CONSUMER_REFRESH_HOURS: z.coerce
    .number({ message: 'FINDINGS_CONSUMER_REFRESH_HOURS must be a number of hours' })
    .min(0.01, { message: 'FINDINGS_CONSUMER_REFRESH_HOURS must be at least 0.01' })
    .max(24 * 30, { message: 'FINDINGS_CONSUMER_REFRESH_HOURS must be at most 720 (30 days)' })
    .default(6),
  /** Bearer token Prometheus sends to /metrics; without it /metrics does not exist (404). */
  METRICS_TOKEN: unsetIfEmpty(
    z
      .string()
      .min(32, { message: 'METRICS_TOKEN must be at least 32 characters (try: openssl rand -hex 32)' })
      .max(512, { message: 'METRICS_TOKEN may be at most 512 characters' })
      .regex(/^[\x21-\x7e]+$/, { message: 'METRICS_TOKEN must be printable ASCII without spaces' }),
  ),
  /** At most this many per-item age series on /metrics, worst items first (each item's name is a label). */
  METRICS_MAX_ITEM_SERIES: z.coerce
    .number({ message: 'METRICS_MAX_ITEM_SERIES must be a whole number' })
    .int({ message: 'METRICS_MAX_ITEM_SERIES must be a whole number' })
    .min(0, { message: 'METRICS_MAX_ITEM_SERIES must be at least 0 (0: no per-item series)' })
    .max(100_000, { message: 'METRICS_MAX_ITEM_SERIES must be at most 100000' })
    .default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type AppEnv = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ENV_KEYS = Object.keys(envSchema.shape);
/** The last settings read from process.env and the values they were read from: every request reads them many times over. */
let lastRead: { values: (string | undefined)[]; env: AppEnv } | null = null;

export function readEnv(source: NodeJS.ProcessEnv = process.env): AppEnv {
  // Parsed again only when one of the variables changed (tests change them between cases).
  const values = source === process.env ? ENV_KEYS.map((key) => source[key]) : null;
  if (values && lastRead && values.every((value, i) => value === lastRead!.values[i])) return lastRead.env;
  const env = parseEnv(source);
  if (values) lastRead = { values, env: Object.freeze(env) };
  return env;
}

function parseEnv(source: NodeJS.ProcessEnv): AppEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid environment settings:\n  ${lines.join('\n  ')}`);
  }
  if (parsed.data.MASTER_KEY && parsed.data.MASTER_KEY_KMS_KEY_ID)
    throw new ConfigError(
      'Invalid environment settings:\n  MASTER_KEY and MASTER_KEY_KMS_KEY_ID are both set: the master key comes either from MASTER_KEY or sealed by KMS, not both (unset one).',
    );
  return parsed.data;
}
