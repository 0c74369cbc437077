import type { ParameterInput, SecretInput, Tag } from '../simulated-aws';

// What the demo organisation's teams keep in Parameter Store and Secrets Manager: per team and
// service, configuration (String, a few StringList), credentials and keys (SecureString), and the
// service's secrets, with owners in tags (some without), ages spread over every freshness status.
// Values are obviously fake ("demo-…"), never in a format secret scanners flag.

export type Env = 'prod' | 'staging';

export interface Team {
  team: string;
  owner: string;
  services: readonly string[];
  vendors: readonly string[];
}

export const TEAMS: readonly Team[] = [
  { team: 'payments', owner: 'payments-team@example.com', services: ['api', 'ledger', 'payouts', 'fraud-scoring', 'webhooks'], vendors: ['stripe', 'adyen', 'plaid'] },
  { team: 'checkout', owner: 'checkout-team@example.com', services: ['cart', 'pricing', 'web', 'tax'], vendors: ['avalara', 'algolia'] },
  { team: 'identity', owner: 'identity-team@example.com', services: ['auth', 'sso-bridge', 'user-profile', 'mfa'], vendors: ['twilio', 'okta'] },
  { team: 'data-platform', owner: 'data-platform@example.com', services: ['etl', 'warehouse-loader', 'kafka-connect', 'airflow'], vendors: ['snowflake', 'fivetran'] },
  { team: 'search', owner: 'search-team@example.com', services: ['indexer', 'query-api'], vendors: ['algolia'] },
  { team: 'notifications', owner: 'notifications@example.com', services: ['email', 'sms', 'push'], vendors: ['sendgrid', 'twilio', 'firebase'] },
  { team: 'platform', owner: 'platform-team@example.com', services: ['ingress', 'observability', 'ci'], vendors: ['datadog', 'pagerduty', 'github'] },
];

const CONFIG_KEYS = [
  'log-level',
  'port',
  'timeouts/connect-ms',
  'timeouts/read-ms',
  'retries/max',
  'cache/ttl-seconds',
  'db/host',
  'db/port',
  'db/name',
  'db/user',
  'db/pool-size',
  'queue/url',
  'metrics/namespace',
  'tracing/sample-rate',
  'replicas/min',
  'replicas/max',
] as const;

const FLAG_WORDS = ['express', 'new', 'async', 'batch', 'beta', 'v2', 'regional', 'smart', 'bulk', 'safe', 'fast', 'shadow'];
const FLAG_NOUNS = ['checkout', 'retries', 'routing', 'caching', 'exports', 'billing', 'ui', 'scoring', 'indexing', 'sync', 'limits', 'search', 'login'];

export const DAY_MS = 86_400_000;

/** Deterministic choices from one seeded generator. */
export interface Draw {
  (): number;
}

const int = (r: Draw, min: number, max: number) => min + Math.floor(r() * (max - min + 1));
const pick = <T>(r: Draw, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** An obviously fake value: "demo-" and 20 lowercase letters and digits. */
export function demoValue(r: Draw): string {
  let s = 'demo-';
  for (let i = 0; i < 20; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(r() * 36)];
  return s;
}

/** Ages (days since the last change) spread over the statuses of the default 90-day policy. */
export type AgeBand = 'fresh' | 'due-soon' | 'overdue' | 'never-rotated';

function ageBand(r: Draw): AgeBand {
  const x = r();
  return x < 0.55 ? 'fresh' : x < 0.67 ? 'due-soon' : x < 0.9 ? 'overdue' : 'never-rotated';
}

function ageDays(r: Draw, band: AgeBand): number {
  switch (band) {
    case 'fresh':
      return int(r, 0, 70);
    case 'due-soon':
      return int(r, 77, 88);
    case 'overdue':
      return int(r, 95, 400);
    default:
      return int(r, 120, 700);
  }
}

function configValue(env: Env, team: Team, service: string, key: string, r: Draw): string {
  const host = `${team.team}-${service}`;
  switch (key) {
    case 'log-level':
      return env === 'prod' ? 'info' : 'debug';
    case 'port':
      return String(8000 + int(r, 0, 99));
    case 'db/host':
      return `${host}-db.${env}.internal.example.com`;
    case 'db/port':
      return '5432';
    case 'db/name':
      return host.replace(/-/g, '_');
    case 'db/user':
      return `${service.replace(/-/g, '_')}_app`;
    case 'queue/url':
      return `https://sqs.example.com/${env}/${host}-events`;
    case 'metrics/namespace':
      return `${team.team}/${service}`;
    case 'tracing/sample-rate':
      return env === 'prod' ? '0.05' : '1.0';
    default:
      return String(int(r, 1, 120) * (key.includes('ms') ? 100 : 1));
  }
}

/** The people and automation that change things, by account (LastModifiedUser, CloudTrail actors). */
export interface Changers {
  ci: string;
  people: readonly string[];
}

export interface CatalogueOptions {
  env: Env;
  account: string;
  region: string;
  now: number;
  changers: Changers;
  r: Draw;
}

export interface Catalogue {
  parameters: ParameterInput[];
  /** Parameter changes (name, version, when, by whom), for CloudTrail's PutParameter events. */
  parameterChanges: { name: string; type: string; version: number; at: number; by: string }[];
}

function ownerTags(team: Team, service: string, r: Draw, withoutOwner: number): Tag[] {
  // Some items have no owner: nobody tagged them.
  if (r() < withoutOwner) return [{ Key: 'service', Value: service }];
  return [
    { Key: 'owner', Value: team.owner },
    { Key: 'team', Value: team.team },
    { Key: 'service', Value: service },
  ];
}

/** The account's parameters; `flagsPerService` feature flags per service make up most of them. */
export function parametersOf(options: CatalogueOptions, flagsPerService: number): Catalogue {
  const { env, now, r, changers } = options;
  const parameters: ParameterInput[] = [];
  const parameterChanges: Catalogue['parameterChanges'] = [];
  const add = (team: Team, service: string, key: string, type: ParameterInput['Type'], value: string, description?: string) => {
    const name = `/${team.team}/${service}/${key}`;
    const band = ageBand(r);
    const age = ageDays(r, band);
    const version = band === 'never-rotated' ? 1 : band === 'fresh' && r() < 0.3 ? 1 : int(r, 2, 14);
    const at = now - age * DAY_MS - int(r, 0, DAY_MS - 1);
    const by = type === 'SecureString' && r() < 0.4 ? pick(r, changers.people) : changers.ci;
    const history =
      version > 1
        ? Array.from({ length: Math.min(version - 1, 4) }, (_, i) => ({
            Version: version - 1 - i,
            LastModifiedDate: new Date(at - (i + 1) * int(r, 20, 60) * DAY_MS).toISOString(),
            LastModifiedUser: changers.ci,
          }))
        : undefined;
    parameters.push({
      Name: name,
      Type: type,
      Value: value,
      Version: version,
      LastModifiedDate: new Date(at).toISOString(),
      LastModifiedUser: by,
      Tier: 'Standard',
      DataType: 'text',
      ...(type === 'SecureString' ? { KeyId: r() < 0.5 ? 'alias/aws/ssm' : `alias/${team.team}-${env}` } : {}),
      // null: none (left out, the simulator would make one up).
      Description: description ?? null,
      ...(history ? { History: history } : {}),
      Tags: ownerTags(team, service, r, 0.08),
    });
    parameterChanges.push({ name, type: type ?? 'String', version, at, by });
    for (const old of history ?? [])
      parameterChanges.push({ name, type: type ?? 'String', version: old.Version, at: Date.parse(old.LastModifiedDate), by: old.LastModifiedUser });
  };
  for (const team of TEAMS) {
    for (const service of team.services) {
      for (const key of CONFIG_KEYS) add(team, service, key, 'String', configValue(env, team, service, key, r));
      if (service === 'api' || service === 'web' || service === 'ingress' || service === 'query-api')
        add(team, service, 'allowed-origins', 'StringList', `https://shop.example.com,https://admin.example.com,https://${env}.example.com`, 'CORS origins');
      if (r() < 0.3) add(team, service, 'cidr-allowlist', 'StringList', '10.0.0.0/8,192.168.0.0/16', 'Networks allowed to call the service');
      add(team, service, 'db/password', 'SecureString', demoValue(r), `Database password of ${team.team}-${service}`);
      add(team, service, 'signing-key', 'SecureString', demoValue(r), 'Signs the service\'s session tokens');
      for (const vendor of team.vendors.slice(0, int(r, 1, team.vendors.length)))
        add(team, service, `api-keys/${vendor}`, 'SecureString', demoValue(r), `${vendor} API key`);
      const flags = new Set<string>();
      while (flags.size < flagsPerService) flags.add(`${pick(r, FLAG_WORDS)}-${pick(r, FLAG_NOUNS)}`);
      for (const flag of flags) add(team, service, `feature-flags/${flag}`, 'String', r() < 0.6 ? 'true' : 'false');
    }
  }
  return { parameters, parameterChanges };
}

/** Rotation functions per team (one Lambda each), as ARNs. */
export function rotationLambdaArn(account: string, region: string, team: string): string {
  return `arn:aws:lambda:${region}:${account}:function:${team}-secret-rotation`;
}

export interface SecretPlan {
  input: SecretInput;
  team: Team;
  service: string | null;
  /** Who reads it every day (the service's role), or none (unread for months). */
  readBy: 'service' | 'nobody' | 'people';
}

/**
 * The secrets of one account. Rotation on for database credentials (succeeding; their LastRotatedDate
 * within the schedule), off for vendor keys: some overdue, some never rotated (one version), some
 * no one has read in months. The stories' secrets are added by stories.ts.
 */
export function secretsOf(options: CatalogueOptions): SecretPlan[] {
  const { env, account, region, now, r } = options;
  const plans: SecretPlan[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const team of TEAMS) {
    for (const service of team.services) {
      // Database credentials, rotated every 30 days by the team's rotation function.
      const rotated = now - int(r, 1, 27) * DAY_MS - int(r, 0, DAY_MS - 1);
      plans.push({
        team,
        service,
        readBy: 'service',
        input: {
          Name: `${env}/${team.team}/${service}/db-credentials`,
          Description: `Database credentials of ${team.team}-${service} (rotated)`,
          SecretString: JSON.stringify({ username: `${service.replace(/-/g, '_')}_app`, password: demoValue(r) }),
          RotationEnabled: true,
          RotationDays: 30,
          RotationLambdaARN: rotationLambdaArn(account, region, team.team),
          LastRotatedDate: iso(rotated),
          LastChangedDate: iso(rotated),
          CreatedDate: iso(now - int(r, 200, 900) * DAY_MS),
          VersionCount: int(r, 3, 12),
          Tags: ownerTags(team, service, r, 0.05),
        },
      });
      // A token for calling the other teams' APIs, rotated every 60 days.
      if (env === 'prod' || r() < 0.6) {
        const tokenRotated = now - int(r, 1, 55) * DAY_MS - int(r, 0, DAY_MS - 1);
        plans.push({
          team,
          service,
          readBy: 'service',
          input: {
            Name: `${env}/${team.team}/${service}/internal-api-token`,
            Description: `Token ${team.team}-${service} presents to internal APIs`,
            SecretString: demoValue(r),
            RotationEnabled: true,
            RotationDays: 60,
            RotationLambdaARN: rotationLambdaArn(account, region, team.team),
            LastRotatedDate: iso(tokenRotated),
            LastChangedDate: iso(tokenRotated),
            CreatedDate: iso(now - int(r, 150, 700) * DAY_MS),
            VersionCount: int(r, 2, 8),
            Tags: ownerTags(team, service, r, 0.05),
          },
        });
      }
      // Vendor keys: changed by hand, if ever.
      const vendors = env === 'prod' ? team.vendors : team.vendors.slice(0, 1);
      for (const vendor of vendors) {
        const band = ageBand(r);
        const age = ageDays(r, band);
        const changed = now - age * DAY_MS - int(r, 0, DAY_MS - 1);
        const unread = env === 'prod' && r() < 0.12;
        plans.push({
          team,
          service,
          readBy: unread ? 'nobody' : 'service',
          input: {
            Name: `${env}/${team.team}/${service}/${vendor}-api-key`,
            Description: `${vendor} API key used by ${team.team}-${service}`,
            SecretString: demoValue(r),
            RotationEnabled: false,
            LastChangedDate: iso(changed),
            CreatedDate: iso(band === 'never-rotated' ? changed : changed - int(r, 30, 600) * DAY_MS),
            VersionCount: band === 'never-rotated' ? 1 : int(r, 2, 6),
            // AWS keeps the date only (no time); unread ones were last read months ago.
            LastAccessedDate: iso(Math.floor((unread ? now - int(r, 100, 240) * DAY_MS : now - int(r, 0, 2) * DAY_MS) / DAY_MS) * DAY_MS),
            Tags: ownerTags(team, service, r, 0.1),
          },
        });
      }
      if (env === 'prod' || r() < 0.5)
        plans.push({
          team,
          service,
          readBy: 'service',
          input: {
            Name: `${env}/${team.team}/${service}/session-signing-key`,
            Description: 'HMAC key that signs the service\'s session cookies',
            SecretString: demoValue(r),
            RotationEnabled: false,
            LastChangedDate: iso(now - int(r, 5, 200) * DAY_MS),
            CreatedDate: iso(now - int(r, 200, 700) * DAY_MS),
            VersionCount: int(r, 1, 4),
            Tags: ownerTags(team, service, r, 0.1),
          },
        });
    }
  }
  // Nothing scheduled for deletion, and what services read was read within the last days (left
  // out, the simulator would make these up).
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return plans.map((plan) => ({
    ...plan,
    input: { DeletedDate: null, LastAccessedDate: plan.readBy === 'service' ? iso(today - int(r, 0, 2) * DAY_MS) : null, ...plan.input },
  }));
}
