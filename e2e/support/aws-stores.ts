import type { ScopeFailure } from '../../simulator/simulated-aws';
import { REGION } from './aws-fixtures';

// The stores the 'aws' browser tests configure (playwright.config.ts writes them to CONFIG_FILE):
// the built-in store, a healthy Parameter Store and Secrets Manager against the simulated AWS
// holding the browser tests' data set (aws-fixtures.ts), and one store per injected failure
// (the simulator's /fail/<failure> endpoint paths). Shared by the config and the specs.

export { REGION };

export const HEALTHY_AWS_STORES = [
  { id: 'prod-params', kind: 'ssm' },
  { id: 'prod-secrets', kind: 'secretsmanager' },
] as const;

export interface FailingStore {
  id: string;
  kind: 'ssm' | 'secretsmanager';
  failure: ScopeFailure;
  /** The StoreError code the banner shows. */
  code: string;
  /** The AWS error name the banner's message names. */
  cause: string;
}

export const FAILING_STORES: FailingStore[] = [
  { id: 'denied-params', kind: 'ssm', failure: 'access-denied', code: 'access-denied', cause: 'AccessDeniedException' },
  { id: 'throttled-secrets', kind: 'secretsmanager', failure: 'throttled', code: 'throttled', cause: 'ThrottlingException' },
  { id: 'missing-params', kind: 'ssm', failure: 'not-found', code: 'not-found', cause: 'ResourceNotFoundException' },
  { id: 'expired-secrets', kind: 'secretsmanager', failure: 'expired-token', code: 'credentials-expired', cause: 'ExpiredTokenException' },
  { id: 'slow-params', kind: 'ssm', failure: 'timeout', code: 'timeout', cause: 'TimeoutError' },
];

/**
 * Stores on the simulated AWS (simulator): `scale-params` holds a 20,000-parameter folder
 * /bulk/ and syncs fast; `first-sync-params` answers every call after SLOW_LATENCY_MS, so its first walk
 * is still under way when the tests look at it, until a test speeds it up.
 */
export const SCALE_STORE = { id: 'scale-params', folderItems: 20_000 } as const;
// 0.5 s a call and two names a call: even split into 32 concurrent chains (64 calls a second), the first
// walk of 50,000 takes minutes, outlasting the whole test run unless a test speeds it up.
export const SLOW_STORE = { id: 'first-sync-params', items: 50_000 } as const;
/** Names the slow simulator examines per DescribeParameters call (AWS scans a window and may answer short pages). */
export const SLOW_SCAN_WINDOW = 2;
/** Half the aws project's AWS_REQUEST_TIMEOUT_MS (1 s), so calls are slow but do not time out even on a busy machine. */
export const SLOW_LATENCY_MS = 500;

/** An auditor of /prod/payments/** only, in every store (the spec creates the account). */
export const SCOPED_AUDITOR = { email: 'payments-auditor@example.com', password: 'e2e-auditor-password-42', paths: '/prod/payments/**' } as const;

/**
 * The same simulated AWS data with `writable: true`, reached under /writes so the simulator records
 * their calls apart from browsing's (which must never read a value). The healthy stores stay read-only.
 */
export const WRITABLE_AWS_STORES = [
  { id: 'rw-params', kind: 'ssm' },
  { id: 'rw-secrets', kind: 'secretsmanager' },
] as const;

function writableStoreLines(awsUrl: string): string[] {
  return WRITABLE_AWS_STORES.flatMap((store) => [`  - id: ${store.id}`, `    kind: ${store.kind}`, `    region: ${REGION}`, `    endpoint: ${awsUrl}/writes`, '    writable: true']);
}

/**
 * The 'reveal' project's CONFIG_FILE: a server with ALLOW_REVEAL=1 over the built-in store and the
 * same simulated AWS, writable, so its spec can generate and then reveal.
 */
export function revealStoresYaml(awsUrl: string): string {
  return `${['stores:', '  - id: local', '    kind: local', ...writableStoreLines(awsUrl)].join('\n')}\n`;
}

/** The CONFIG_FILE text for the simulated AWS at `awsUrl` (no trailing slash) and the two scale simulators. */
export function awsStoresYaml(awsUrl: string, scaleUrl: string, slowUrl: string): string {
  const lines = ['stores:', '  - id: local', '    kind: local'];
  lines.push(`  - id: ${SCALE_STORE.id}`, '    kind: ssm', `    region: ${REGION}`, `    endpoint: ${scaleUrl}`, '    rateLimits:', '      DescribeParameters: 200');
  lines.push(`  - id: ${SLOW_STORE.id}`, '    kind: ssm', `    region: ${REGION}`, `    endpoint: ${slowUrl}`, '    rateLimits:', '      DescribeParameters: 200');
  for (const store of HEALTHY_AWS_STORES) lines.push(`  - id: ${store.id}`, `    kind: ${store.kind}`, `    region: ${REGION}`, `    endpoint: ${awsUrl}`);
  lines.push(...writableStoreLines(awsUrl));
  for (const store of FAILING_STORES)
    lines.push(`  - id: ${store.id}`, `    kind: ${store.kind}`, `    region: ${REGION}`, `    endpoint: ${awsUrl}/fail/${store.failure}`);
  // A scoped auditor (e2e/aws-audit-timeline.spec.ts): a grant naming the account replaces its role.
  // Not on the writing stores: their entries (other specs' rotations) would land in this auditor's timeline.
  lines.push('grants:', `  - user: ${SCOPED_AUDITOR.email}`, '    role: auditor', `    paths: ['${SCOPED_AUDITOR.paths}']`, `    stores: [local, ${HEALTHY_AWS_STORES.map((s) => s.id).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}
