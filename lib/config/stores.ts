import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, readEnv, type AppEnv } from './env';
import { lineOf as lineOfConfig, parseConfigYaml, readConfigFile, type ConfigDocument } from './yaml-file';

// Which stores the dashboard shows. Without CONFIG_FILE only the embedded store is configured;
// with it, the YAML file's `stores:` list says exactly which stores exist. Every problem stops
// start-up with a message that names the entry and, where it can, the line.

export function defaultStores(): StoreConfig[] {
  return [{ id: 'local', kind: 'local', label: 'Built-in encrypted store' }];
}

export const STORE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
export const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** What the AWS CLI and SDK accept as a profile name in a section header. */
export const PROFILE_PATTERN = /^[\w\-@+.%:/]{1,128}$/;
/** STS's rule for ExternalId. */
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

export const unknownKeys = (where: string, known: readonly string[]) => (issue: { code?: string; keys?: string[] }) =>
  issue.code === 'unrecognized_keys'
    ? `unknown ${where} ${issue.keys?.map((k) => `"${k}"`).join(', ')}; expected ${known.join(', ')}`
    : undefined;

const id = z.string({ error: 'id is required: a short URL-safe name such as prod-params' }).regex(STORE_ID_PATTERN, {
  message: 'id must be 1-63 lowercase letters, digits or "-", starting with a letter or digit (it appears in URLs)',
});
const label = z.string().trim().min(1, { message: 'label must not be empty' }).max(100, { message: 'label is at most 100 characters' });

const localStoreSchema = z.strictObject(
  { id, kind: z.literal('local'), label: label.optional() },
  { error: unknownKeys('key', ['id', 'kind', 'label']) },
);

const rate = (op: string) =>
  z
    .number({ message: `rateLimits.${op} must be a number of calls per second` })
    .positive({ message: `rateLimits.${op} must be above 0` })
    .max(10_000, { message: `rateLimits.${op} must be at most 10000` })
    .optional();
export const RATE_LIMIT_OPERATIONS = ['DescribeParameters', 'ListTagsForResource', 'ListSecrets'] as const;
/** Calls per second the inventory sync may make, per AWS operation; defaults follow AWS's quotas. */
const rateLimits = z.strictObject(
  Object.fromEntries(RATE_LIMIT_OPERATIONS.map((op) => [op, rate(op)])) as Record<(typeof RATE_LIMIT_OPERATIONS)[number], ReturnType<typeof rate>>,
  { error: unknownKeys('operation in rateLimits', RATE_LIMIT_OPERATIONS) },
);

/**
 * A shared-credentials file read instead of ~/.aws/credentials for this entry's profile (the demo's
 * simulated accounts use one, so a user's own AWS files are never touched). Relative paths are taken
 * from CONFIG_FILE's folder.
 */
export const credentialsFileField = z
  .string({ message: 'credentialsFile must be the path of an AWS shared-credentials file' })
  .trim()
  .min(1, { message: 'credentialsFile must not be empty' })
  .max(4096, { message: 'credentialsFile is at most 4096 characters' })
  .refine((v) => !v.includes('\0'), { message: 'credentialsFile must be a path' })
  .optional();
export const credentialsFileNeedsProfile = (entry: { credentialsFile?: string; profile?: string }) => entry.credentialsFile === undefined || entry.profile !== undefined;
export const credentialsFileMessage = { message: 'credentialsFile is read for a profile: add profile or remove credentialsFile', path: ['credentialsFile'] };

/** A credentialsFile as written in CONFIG_FILE, made absolute against the file's folder. */
export function resolveCredentialsFile(configSource: string, credentialsFile: string): string {
  return path.resolve(path.dirname(path.resolve(configSource)), credentialsFile);
}

const awsFields = {
  id,
  rateLimits: rateLimits.optional(),
  label: label.optional(),
  region: z
    .string({ error: 'region is required for AWS stores, e.g. eu-west-1' })
    .regex(AWS_REGION_PATTERN, { message: 'region must be an AWS region such as us-east-1 or eu-west-2' }),
  profile: z.string().regex(PROFILE_PATTERN, { message: 'profile must be a profile name from ~/.aws/config or ~/.aws/credentials' }).optional(),
  credentialsFile: credentialsFileField,
  roleArn: z
    .string()
    .regex(ROLE_ARN_PATTERN, { message: 'roleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/dashboard-read' })
    .optional(),
  externalId: z.string().regex(EXTERNAL_ID_PATTERN, { message: 'externalId must be 2-1224 characters of letters, digits and +=,.@:/-' }).optional(),
  endpoint: z
    .url({ protocol: /^https?$/, message: 'endpoint must be an http(s) URL, e.g. http://localhost:4566' })
    .optional(),
  /** Off by default: rotate and generate write to AWS only where the store says so. */
  writable: z.boolean({ message: 'writable must be true or false' }).optional(),
};
const externalIdNeedsRole = (entry: { externalId?: string; roleArn?: string }) => entry.externalId === undefined || entry.roleArn !== undefined;
const externalIdMessage = { message: 'externalId is only used when assuming a role: add roleArn or remove externalId', path: ['externalId'] };

const awsKeys = ['id', 'kind', ...Object.keys(awsFields).filter((k) => k !== 'id')];
const ssmStoreSchema = z
  .strictObject({ ...awsFields, kind: z.literal('ssm') }, { error: unknownKeys('key', awsKeys) })
  .refine(externalIdNeedsRole, externalIdMessage)
  .refine(credentialsFileNeedsProfile, credentialsFileMessage);
const secretsManagerStoreSchema = z
  .strictObject({ ...awsFields, kind: z.literal('secretsmanager') }, { error: unknownKeys('key', awsKeys) })
  .refine(externalIdNeedsRole, externalIdMessage)
  .refine(credentialsFileNeedsProfile, credentialsFileMessage);

// HashiCorp Vault (or OpenBao) KV v2. Secrets come from environment variables or files named here,
// never from the file itself.
/** An environment variable's name, as POSIX shells accept it. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const envName = (field: string, what: string) =>
  z
    .string({ error: `${field} is required: the name of the environment variable that holds ${what}` })
    .regex(ENV_NAME_PATTERN, { message: `${field} must be the NAME of an environment variable (letters, digits, "_"), not its value` });
/** A Vault path segment list: letters, digits and _.- between single slashes, no leading or trailing slash. */
export const VAULT_PATH_PATTERN = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const vaultPath = (field: string, example: string) =>
  z.string({ message: `${field} must be a Vault path such as ${example}` }).transform((v) => v.replace(/^\/+|\/+$/g, '')).pipe(
    z.string().regex(VAULT_PATH_PATTERN, { message: `${field} must be a Vault path such as ${example} (letters, digits, "_", ".", "-" between slashes)` }),
  );
const filePath = (field: string, what: string) =>
  z
    .string({ message: `${field} must be the path of ${what}` })
    .trim()
    .min(1, { message: `${field} must not be empty` })
    .max(4096, { message: `${field} is at most 4096 characters` })
    .refine((v) => !v.includes('\0'), { message: `${field} must be a path` });
export const DEFAULT_KUBERNETES_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const VAULT_AUTH_METHODS = ['token', 'approle', 'kubernetes'] as const;
const vaultAuthSchema = z.discriminatedUnion(
  'method',
  [
    z.strictObject({ method: z.literal('token'), tokenEnv: envName('auth.tokenEnv', 'the Vault token') }, { error: unknownKeys('key in auth (method token)', ['method', 'tokenEnv']) }),
    z.strictObject(
      {
        method: z.literal('approle'),
        roleIdEnv: envName('auth.roleIdEnv', 'the AppRole role id'),
        secretIdEnv: envName('auth.secretIdEnv', 'the AppRole secret id'),
        mount: vaultPath('auth.mount', 'approle').optional(),
      },
      { error: unknownKeys('key in auth (method approle)', ['method', 'roleIdEnv', 'secretIdEnv', 'mount']) },
    ),
    z.strictObject(
      {
        method: z.literal('kubernetes'),
        role: z.string({ error: 'auth.role is required: the Vault Kubernetes auth role to log in as' }).trim().min(1, { message: 'auth.role must not be empty' }).max(256),
        tokenFile: filePath('auth.tokenFile', 'the service-account token file').optional(),
        mount: vaultPath('auth.mount', 'kubernetes').optional(),
      },
      { error: unknownKeys('key in auth (method kubernetes)', ['method', 'role', 'tokenFile', 'mount']) },
    ),
  ],
  {
    error: (issue) =>
      issue.input === undefined
        ? 'auth is required: { method: token, tokenEnv }, { method: approle, roleIdEnv, secretIdEnv } or { method: kubernetes, role }'
        : issue.code === 'invalid_union'
          ? `auth.method must be one of ${VAULT_AUTH_METHODS.join(', ')}`
          : issue.code === 'invalid_type'
            ? 'auth must be a map such as { method: token, tokenEnv: VAULT_TOKEN }'
            : undefined,
  },
);
const VAULT_KEYS = ['id', 'kind', 'label', 'address', 'namespace', 'mount', 'pathPrefix', 'auth', 'caFile', 'writable', 'rate', 'concurrency'];
const vaultStoreSchema = z.strictObject(
  {
    id,
    kind: z.literal('vault'),
    label: label.optional(),
    address: z.url({ protocol: /^https?$/, message: 'address must be the Vault server\'s http(s) URL, e.g. https://vault.internal:8200' }).transform((v) => v.replace(/\/+$/, '')),
    /** Vault Enterprise / HCP namespace, e.g. admin/team-a. */
    namespace: vaultPath('namespace', 'admin/team-a').optional(),
    /** The KV v2 mount. */
    mount: vaultPath('mount', 'secret').default('secret'),
    /** Only this folder of the mount is browsed (its items show without the prefix). */
    pathPrefix: vaultPath('pathPrefix', 'apps/prod').optional(),
    auth: vaultAuthSchema,
    /** PEM bundle of the CA(s) that signed Vault's TLS certificate. */
    caFile: filePath('caFile', 'a PEM CA bundle').optional(),
    writable: z.boolean({ message: 'writable must be true or false' }).optional(),
    /** Requests per second this store sends to Vault at most (the inventory walk and pages together). */
    rate: z.number({ message: 'rate must be a number of requests per second' }).positive({ message: 'rate must be above 0' }).max(10_000, { message: 'rate must be at most 10000' }).default(20),
    /** Requests in flight at once. */
    concurrency: z.number({ message: 'concurrency must be a whole number of requests' }).int({ message: 'concurrency must be a whole number' }).min(1, { message: 'concurrency must be at least 1' }).max(256, { message: 'concurrency must be at most 256' }).default(8),
  },
  { error: unknownKeys('key', VAULT_KEYS) },
);

export const STORE_CONFIG_KINDS = ['local', 'ssm', 'secretsmanager', 'vault'] as const;

const storeEntrySchema = z.discriminatedUnion('kind', [localStoreSchema, ssmStoreSchema, secretsManagerStoreSchema, vaultStoreSchema], {
  error: (issue) =>
    issue.code === 'invalid_union' ? `kind must be one of ${STORE_CONFIG_KINDS.join(', ')}` : undefined,
});

export type LocalStoreConfig = z.infer<typeof localStoreSchema>;
export type SsmStoreConfig = z.infer<typeof ssmStoreSchema>;
export type SecretsManagerStoreConfig = z.infer<typeof secretsManagerStoreSchema>;
export type AwsStoreConfig = SsmStoreConfig | SecretsManagerStoreConfig;
export type VaultStoreConfig = z.infer<typeof vaultStoreSchema>;
export type VaultAuthConfig = VaultStoreConfig['auth'];
export type StoreConfig = LocalStoreConfig | AwsStoreConfig | VaultStoreConfig;

export function isAwsStoreConfig(config: StoreConfig): config is AwsStoreConfig {
  return config.kind === 'ssm' || config.kind === 'secretsmanager';
}

/** A Vault entry with its caFile and tokenFile made absolute against CONFIG_FILE's folder. */
function resolveVaultFiles(configSource: string, entry: VaultStoreConfig): VaultStoreConfig {
  const resolve = (file: string) => path.resolve(path.dirname(path.resolve(configSource)), file);
  return {
    ...entry,
    ...(entry.caFile ? { caFile: resolve(entry.caFile) } : {}),
    auth: entry.auth.method === 'kubernetes' ? { ...entry.auth, tokenFile: entry.auth.tokenFile ? resolve(entry.auth.tokenFile) : DEFAULT_KUBERNETES_TOKEN_FILE } : entry.auth,
  };
}

export const CONFIG_SECTIONS = ['stores', 'grants', 'policies', 'freshness', 'audit', 'alerts'] as const;

const configFileSchema = z.strictObject({
  stores: z
    .array(storeEntrySchema)
    .superRefine((stores, ctx) => {
      const seen = new Map<string, number>();
      stores.forEach((store, index) => {
        const first = seen.get(store.id);
        if (first !== undefined)
          ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `id "${store.id}" is already used by stores[${first}]; ids must be unique` });
        else seen.set(store.id, index);
      });
      // Two embedded stores would open the same database under DATA_DIR.
      const locals = stores.flatMap((s, i) => (s.kind === 'local' ? [i] : []));
      for (const index of locals.slice(1))
        ctx.addIssue({ code: 'custom', path: [index, 'kind'], message: 'only one store may be of kind local' });
    })
    .optional(),
  // Sections other parts of the app read from the same file; validated where they are used.
  grants: z.unknown().optional(),
  policies: z.unknown().optional(),
  freshness: z.unknown().optional(),
  audit: z.unknown().optional(),
  alerts: z.unknown().optional(),
}, { error: unknownKeys('section', CONFIG_SECTIONS) });

/** "stores[2] (id "prod-params")" for issues inside an entry, else the dotted path. */
function describeWhere(raw: unknown, issuePath: PropertyKey[]): string {
  const [section, index] = issuePath;
  if (section === 'stores' && typeof index === 'number') {
    const entry = Array.isArray(raw) ? undefined : (raw as { stores?: unknown[] } | null)?.stores?.[index];
    const entryId = entry && typeof entry === 'object' ? (entry as { id?: unknown }).id : undefined;
    return `stores[${index}]${typeof entryId === 'string' ? ` (id "${entryId}")` : ''}`;
  }
  return issuePath.length ? issuePath.map(String).join('.') : 'top level';
}

/** "region: " before a message about a field, unless the message already starts with its name. */
function fieldOf(issuePath: PropertyKey[], message: string): string {
  const field = issuePath.slice(2).map(String).join('.');
  return field && !message.startsWith(field) ? `${field}: ` : '';
}

/** Where the AWS files are: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else under HOME. */
export type AwsFileEnv = Record<string, string | undefined>;

function awsHome(awsEnv: AwsFileEnv): string {
  return awsEnv.HOME || awsEnv.USERPROFILE || homedir();
}

/**
 * Profile names defined in the shared config and credentials files, read the way the SDK reads
 * them ("[profile x]" or "[default]" in config, "[x]" in credentials). Start-up is synchronous,
 * and the SDK's loadSharedConfigFiles is async, so the section headers are scanned here directly.
 */
export function knownAwsProfiles(awsEnv: AwsFileEnv = process.env): { profiles: Set<string>; files: string[] } {
  const home = awsHome(awsEnv);
  const configFile = awsEnv.AWS_CONFIG_FILE || path.join(home, '.aws', 'config');
  const credentialsFile = awsEnv.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials');
  const profiles = new Set<string>();
  const scan = (file: string, isConfig: boolean) => {
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
      const header = /^\s*\[\s*([^\]]+?)\s*\]\s*(?:[;#].*)?$/.exec(line)?.[1];
      if (!header) continue;
      if (!isConfig) profiles.add(header);
      else if (header === 'default') profiles.add('default');
      else {
        const named = /^profile\s+(["']?)(.+)\1$/.exec(header);
        if (named?.[2]) profiles.add(named[2].trim());
      }
    }
  };
  scan(configFile, true);
  scan(credentialsFile, false);
  return { profiles, files: [configFile, credentialsFile] };
}

/** Parses and validates the YAML text of a config file. `source` names it in messages. */
export function parseStoreConfig(text: string, source: string, awsEnv: AwsFileEnv = process.env): StoreConfig[] {
  return storesFromConfig(parseConfigYaml(text, source), awsEnv);
}

/** The validated `stores:` section of an already parsed config file. */
export function storesFromConfig(config: ConfigDocument, awsEnv: AwsFileEnv = process.env): StoreConfig[] {
  const { raw, source } = config;
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const line = lineOfConfig(config, issue.path);
      const where = describeWhere(raw, issue.path);
      return `${source}${line ? `:${line}` : ''}: ${where}: ${fieldOf(issue.path, issue.message)}${issue.message}`;
    });
    throw new ConfigError(`The configuration file has problems:\n  ${lines.join('\n  ')}`);
  }
  const stores = parsed.data.stores;
  if (!stores) return defaultStores();
  if (stores.length === 0) {
    throw new ConfigError(`${source}: "stores:" is empty; list at least one store, or remove the key to use the built-in store only.`);
  }

  const resolved = stores.map((s) =>
    s.kind === 'vault' ? resolveVaultFiles(source, s) : isAwsStoreConfig(s) && s.credentialsFile ? { ...s, credentialsFile: resolveCredentialsFile(source, s.credentialsFile) } : s,
  );
  const withProfiles = resolved.filter((s): s is AwsStoreConfig => isAwsStoreConfig(s) && s.profile !== undefined);
  const problems = withProfiles.flatMap((s) => {
    const problem = unknownProfileProblem(s, awsEnv);
    if (!problem) return [];
    const index = resolved.indexOf(s);
    const line = lineOfConfig(config, ['stores', index, s.credentialsFile && problem.missingFile ? 'credentialsFile' : 'profile']);
    const fix = problem.missingFile ? 'fix the path' : s.credentialsFile ? `add a [${s.profile}] section to it or fix the name` : `add it (aws configure --profile ${s.profile}) or fix the name`;
    return [`${source}${line ? `:${line}` : ''}: stores[${index}] (id "${s.id}"): ${problem.message}; ${fix}.`];
  });
  if (problems.length > 0) throw new ConfigError(`The configuration file names AWS profiles that cannot be found:\n  ${problems.join('\n  ')}`);
  return resolved;
}

/**
 * Why an entry's profile cannot be found, or null when it can: with a credentialsFile the profile is
 * looked for there (and in the shared config file), else in the usual AWS files.
 */
export function unknownProfileProblem(
  entry: { profile?: string; credentialsFile?: string },
  awsEnv: AwsFileEnv = process.env,
): { message: string; missingFile: boolean } | null {
  if (entry.profile === undefined) return null;
  if (entry.credentialsFile !== undefined && !existsSync(entry.credentialsFile))
    return { message: `credentialsFile ${entry.credentialsFile} does not exist`, missingFile: true };
  const known = knownAwsProfiles(entry.credentialsFile ? { ...awsEnv, AWS_SHARED_CREDENTIALS_FILE: entry.credentialsFile } : awsEnv);
  if (known.profiles.has(entry.profile)) return null;
  return { message: `profile "${entry.profile}" is not defined in ${known.files.join(' or ')}`, missingFile: false };
}

export function loadStoreConfigs(env: AppEnv = readEnv(), awsEnv: AwsFileEnv = process.env): StoreConfig[] {
  if (!env.CONFIG_FILE) return defaultStores();
  return storesFromConfig(readConfigFile(env.CONFIG_FILE), awsEnv);
}
