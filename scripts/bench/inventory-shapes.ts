// The two shapes `npm run bench` measures the inventory in:
//   - one account: N items in one flat folder of the built-in store and N parameters in one simulated
//     Parameter Store (30 ms a call), as the benchmark always did (1,000 / 10,000 / 100,000);
//   - an organisation: N items over 20 accounts x 2 regions (150 ms a call), each account and region
//     with a Parameter Store of 4/5 of its share (3/4 of that in /scale/teamT/svcS/, 1/4 in one flat
//     folder /bulk/) and a Secrets Manager of 1/5 (/scale/...): at 1,000,000 items, 40 Parameter Stores
//     of 20,000 and 40 Secrets Managers of 5,000. Every store walks at once within its own quotas, so
//     the organisation's floor is its slowest store's (a Parameter Store: 400 DescribeParameters calls
//     at 10/s, 40 s).
import { generatedAccessKeyId, GENERATED_REGIONS } from '../../simulator/simulated-organisation';

export const DESCRIBE_RATE = 10;
export const LIST_SECRETS_RATE = 100;
export const ORG_ACCOUNTS = 20;
export const ORG_REGIONS = 2;
export const ORG_LATENCY_MS = 150;
export const ONE_ACCOUNT_LATENCY_MS = 30;
/** The account and region whose Parameter Store the folder pages, DOM rows and naive walk use. */
const FIRST_REGION = GENERATED_REGIONS[0];
const LAST_REGION = GENERATED_REGIONS[ORG_REGIONS - 1]!;

/** The floors in seconds: calls needed (a full page each) at the rate allowed. */
export const describeFloorS = (parameters: number) => Math.ceil(parameters / 50) / DESCRIBE_RATE;
export const listSecretsFloorS = (secrets: number) => Math.max(1, Math.ceil(secrets / 100)) / LIST_SECRETS_RATE;

export interface SyncedStore {
  id: string;
  kind: 'ssm' | 'secretsmanager';
}

export interface InventoryShape {
  kind: 'account' | 'organisation';
  items: number;
  accounts: number;
  regions: number;
  latencyMs: number;
  /** The simulator's arguments after `simulator/main.ts`. */
  simulatorArgs: string[];
  /** What the table's header says of the shape. */
  description: string;
  /** Items seeded into the built-in store's /bulk/ (the one-account shape's big folder), else 0. */
  localItems: number;
  /** The stores the cold sync walks (their inventory is ready when every one has synced). */
  synced: SyncedStore[];
  /** The cold sync's floor (the slowest store's), and Secrets Manager's own (the slowest secret store's). */
  floorS: number;
  smFloorS: number;
  /** Parameters each Parameter Store holds (what the cold sync must take in per store). */
  parametersPerStore: number;
  secretsPerStore: number;
  /** The flat folder the deep pages, the scoped viewer's page and the DOM rows use: its store and item count. */
  bulkStore: string;
  bulkItems: number;
  /** A store with /scale/team1/svc1/ (a hierarchy folder). */
  hierarchyStore: string;
  /** The naive walk's target: one Parameter Store (its credentials when it is an organisation's). */
  naive: { storeParameters: number; credentials: { accessKeyId: string; secretAccessKey: string } | null; region: string };
  /** The CONFIG_FILE's stores section, and the credentials file it names (null: none needed). */
  storesYaml(simUrl: string, credentialsFile: string): string[];
  credentialsText: string | null;
}

const regionTag = (region: string) => region.replace(/-/g, '');
const orgStoreId = (account: number, region: string, kind: 'ssm' | 'secrets') => `acct${String(account).padStart(2, '0')}-${regionTag(region)}-${kind}`;
const orgProfile = (account: number) => `org-acct${String(account).padStart(2, '0')}`;

export function oneAccountShape(n: number): InventoryShape {
  return {
    kind: 'account',
    items: n,
    accounts: 1,
    regions: 1,
    latencyMs: ONE_ACCOUNT_LATENCY_MS,
    simulatorArgs: ['--aws', '--ssm', `hierarchy:${n}`, '--latency', String(ONE_ACCOUNT_LATENCY_MS)],
    description: `${n.toLocaleString('en-US')} items in the built-in store's /bulk/ and ${n.toLocaleString('en-US')} parameters in one account (${ONE_ACCOUNT_LATENCY_MS} ms a call); Secrets Manager apart: ${n.toLocaleString('en-US')} secrets`,
    localItems: n,
    synced: [{ id: 'sim-params', kind: 'ssm' }],
    floorS: describeFloorS(n),
    smFloorS: listSecretsFloorS(n),
    parametersPerStore: n,
    secretsPerStore: n,
    bulkStore: 'local',
    bulkItems: n,
    hierarchyStore: 'sim-params',
    naive: { storeParameters: n, credentials: null, region: 'us-east-1' },
    storesYaml: (simUrl) => [
      '  - { id: local, kind: local, label: Built-in }',
      `  - { id: sim-params, kind: ssm, region: us-east-1, endpoint: "${simUrl}", rateLimits: { DescribeParameters: ${DESCRIBE_RATE} } }`,
    ],
    credentialsText: null,
  };
}

/** n items over 20 accounts x 2 regions (n a multiple of 40 x 20 keeps every set whole). */
export function organisationShape(n: number): InventoryShape {
  const places = ORG_ACCOUNTS * ORG_REGIONS;
  const perPlace = Math.floor(n / places);
  const secrets = Math.floor(perPlace / 5);
  const parameters = perPlace - secrets;
  const flat = Math.floor(parameters / 4);
  const hierarchy = parameters - flat;
  if (flat < 1 || secrets < 1) throw new Error(`an organisation of ${n} items is too small for ${places} accounts and regions`);
  const accounts = Array.from({ length: ORG_ACCOUNTS }, (_, i) => i + 1);
  const regions = GENERATED_REGIONS.slice(0, ORG_REGIONS);
  const total = places * perPlace;
  return {
    kind: 'organisation',
    items: total,
    accounts: ORG_ACCOUNTS,
    regions: ORG_REGIONS,
    latencyMs: ORG_LATENCY_MS,
    simulatorArgs: [
      '--org', `${ORG_ACCOUNTS}x${ORG_REGIONS}`,
      '--ssm', `hierarchy:${hierarchy}`, '--ssm', `flat:bulk:${flat}`, '--secrets', `hierarchy:${secrets}`,
      '--no-record', '--latency', String(ORG_LATENCY_MS),
    ],
    description:
      `${total.toLocaleString('en-US')} items over ${ORG_ACCOUNTS} accounts x ${ORG_REGIONS} regions (${ORG_LATENCY_MS} ms a call): ` +
      `${places} Parameter Stores of ${parameters.toLocaleString('en-US')} (${hierarchy.toLocaleString('en-US')} in /scale/, ${flat.toLocaleString('en-US')} in /bulk/) ` +
      `and ${places} Secrets Managers of ${secrets.toLocaleString('en-US')}`,
    localItems: 0,
    synced: accounts.flatMap((a) =>
      regions.flatMap((r) => [
        { id: orgStoreId(a, r, 'ssm'), kind: 'ssm' as const },
        { id: orgStoreId(a, r, 'secrets'), kind: 'secretsmanager' as const },
      ]),
    ),
    floorS: Math.max(describeFloorS(parameters), listSecretsFloorS(secrets)),
    smFloorS: listSecretsFloorS(secrets),
    parametersPerStore: parameters,
    secretsPerStore: secrets,
    bulkStore: orgStoreId(1, FIRST_REGION, 'ssm'),
    bulkItems: flat,
    hierarchyStore: orgStoreId(ORG_ACCOUNTS, LAST_REGION, 'ssm'),
    naive: { storeParameters: parameters, credentials: { accessKeyId: generatedAccessKeyId(1), secretAccessKey: 'bench' }, region: FIRST_REGION },
    storesYaml: (simUrl, credentialsFile) =>
      accounts.flatMap((a) =>
        regions.flatMap((r) => {
          const common = `region: ${r}, profile: ${orgProfile(a)}, credentialsFile: "${credentialsFile}", endpoint: "${simUrl}"`;
          return [
            `  - { id: ${orgStoreId(a, r, 'ssm')}, kind: ssm, ${common}, rateLimits: { DescribeParameters: ${DESCRIBE_RATE} } }`,
            `  - { id: ${orgStoreId(a, r, 'secrets')}, kind: secretsmanager, ${common}, rateLimits: { ListSecrets: ${LIST_SECRETS_RATE} } }`,
          ];
        }),
      ),
    credentialsText: accounts.map((a) => `[${orgProfile(a)}]\naws_access_key_id = ${generatedAccessKeyId(a)}\naws_secret_access_key = bench\n`).join('\n'),
  };
}

/** `--sizes` entries: N up to 100,000 is one account, more is an organisation; `org:N` is an organisation of any size. */
export function shapeOf(spec: string): InventoryShape {
  const org = spec.startsWith('org:');
  const n = Number(org ? spec.slice(4) : spec);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes: "${spec}" is not a number of items (or org:N)`);
  return org || n > 100_000 ? organisationShape(n) : oneAccountShape(n);
}
