// How workloads name the items they use, read as AWS reads them:
// - ECS `secrets[].valueFrom`: a parameter's ARN or (same account and region) its name; a secret's
//   full or partial ARN, optionally followed by `:json-key:version-stage:version-id`;
// - Lambda environment variables: the same ARNs, a parameter name or secret id as the value, or the
//   AWS Parameters and Secrets Lambda Extension's local paths
//   (`/systemsmanager/parameters/get?name=…`, `/secretsmanager/get?secretId=…`).
// A candidate names where the item would be and the names it could have in the dashboard (Secrets
// Manager names are shown with a leading "/"); the caller keeps the first one its inventory holds.

export type ReferencedService = 'ssm' | 'secretsmanager';

export interface ReferenceCandidate {
  service: ReferencedService;
  /** From an ARN; null: the workload's own account. */
  account: string | null;
  /** From an ARN; null: the workload's own region. */
  region: string | null;
  /** The item's possible names in the dashboard, most likely first. */
  names: string[];
}

const SSM_ARN = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter(\/.*)$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:([^:]+)(?::.*)?$/;
/** The six characters Secrets Manager appends to a secret's name in its ARN. */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;
const PARAMETER_NAME = /^\/?[A-Za-z0-9_.\-/]{1,2048}$/;
const SECRET_ID = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

const asDashboardSecretName = (name: string) => (name.startsWith('/') ? name : `/${name}`);
/** An ARN's parameter part: "parameter/prod/db" is "/prod/db", "parameter/plain" is "plain". */
const parameterFromArn = (rest: string) => (rest.startsWith('//') ? rest.slice(1) : rest.slice(1).includes('/') ? rest : rest.slice(1));

function fromArn(value: string): ReferenceCandidate | null {
  const ssm = SSM_ARN.exec(value);
  if (ssm) {
    const name = parameterFromArn(ssm[3]!);
    const names = name.startsWith('/') ? [name] : [name, `/${name}`];
    return { service: 'ssm', account: ssm[2]!, region: ssm[1]!, names };
  }
  const secret = SECRET_ARN.exec(value);
  if (secret) {
    const id = secret[3]!;
    // A full ARN ends with the random suffix; a partial one does not (then the name is all of it).
    const names = ARN_SUFFIX.test(id) ? [id.replace(ARN_SUFFIX, ''), id] : [id];
    return { service: 'secretsmanager', account: secret[2]!, region: secret[1]!, names: names.map(asDashboardSecretName) };
  }
  return null;
}

/** An ECS container's `secrets[].valueFrom`. */
export function parseValueFrom(valueFrom: string): ReferenceCandidate | null {
  const value = valueFrom.trim();
  if (value.startsWith('arn:')) return fromArn(value);
  // A bare value is a parameter of the task's own account and region.
  if (!PARAMETER_NAME.test(value)) return null;
  return { service: 'ssm', account: null, region: null, names: value.startsWith('/') ? [value] : [value, `/${value}`] };
}

/** A secret named by its id (name or ARN), as GetSecretValue takes it. */
function secretIdCandidate(id: string): ReferenceCandidate | null {
  if (id.startsWith('arn:')) return fromArn(id);
  return SECRET_ID.test(id) ? { service: 'secretsmanager', account: null, region: null, names: [asDashboardSecretName(id)] } : null;
}

const present = (list: (ReferenceCandidate | null)[]) => list.filter((c): c is ReferenceCandidate => c !== null);
const EXTENSION_PATH = /^(?:https?:\/\/localhost:\d+)?\/(systemsmanager\/parameters\/get\?name=|secretsmanager\/get\?secretId=)([^&\s]+)/;

/**
 * A Lambda environment variable's value: every reading it could have (an ARN, an extension path, a
 * parameter name, a secret id). Only those the inventory holds count as references.
 */
export function parseEnvValue(raw: string): ReferenceCandidate[] {
  const value = raw.trim();
  if (value.length === 0 || value.length > 4096) return [];
  if (value.startsWith('arn:')) return present([fromArn(value)]);
  const extension = EXTENSION_PATH.exec(value);
  if (extension) {
    let id: string;
    try {
      id = decodeURIComponent(extension[2]!);
    } catch {
      return [];
    }
    return present([extension[1]!.startsWith('systemsmanager') ? parseValueFrom(id) : secretIdCandidate(id)]);
  }
  // A bare value names an item only with a path in it ("prod/db/password", "/app/api-key"): a word
  // alone ("INFO", "eu-west-1") is configuration, even when an item happens to share the name.
  if (!value.includes('/')) return [];
  return present([PARAMETER_NAME.test(value) ? parseValueFrom(value) : null, value.startsWith('/') ? null : secretIdCandidate(value)]);
}

/**
 * Whether a Lambda environment value names an item on purpose (an ARN or an extension path), so a
 * reference that resolves to no item is worth keeping as unresolved; a bare value that matches
 * nothing is only configuration.
 */
export function namesExplicitly(raw: string): boolean {
  const value = raw.trim();
  return value.startsWith('arn:') || EXTENSION_PATH.test(value);
}
