import type { StoreKind } from '@/lib/stores/types';
import type { ControlId, Severity } from './types';

// The catalogue of controls: each with the meaning of the Prowler check, Security Hub control or
// AWS Config rule it follows (linked, so a reviewer can compare), or marked as the dashboard's own
// where no tool covers it (Parameter Store usage, new readers, owners across stores), or HashiCorp's
// documentation where the control is Vault's own.

export interface ControlReference {
  source: 'Prowler' | 'Security Hub' | 'AWS Config' | 'HashiCorp' | 'Dashboard';
  id: string;
  url: string;
}

export interface Control {
  id: ControlId;
  title: string;
  severity: Severity;
  /** The stores whose items it is asked of (none for a workload control: types.ts WORKLOAD_CONTROL_IDS). */
  appliesTo: readonly StoreKind[];
  /** Why it matters, in a sentence. */
  description: string;
  /** What to do about a finding. */
  remediation: string;
  references: readonly ControlReference[];
}

const prowler = (id: string): ControlReference => ({ source: 'Prowler', id, url: `https://hub.prowler.com/check/${id}` });
const securityHub = (n: number): ControlReference => ({
  source: 'Security Hub',
  id: `SecretsManager.${n}`,
  url: `https://docs.aws.amazon.com/securityhub/latest/userguide/secretsmanager-controls.html#secretsmanager-${n}`,
});
const config = (id: string): ControlReference => ({ source: 'AWS Config', id, url: `https://docs.aws.amazon.com/config/latest/developerguide/${id}.html` });
const ecsControl = (n: number): ControlReference => ({ source: 'Security Hub', id: `ECS.${n}`, url: `https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-${n}` });
const hashicorp = (id: string, path: string): ControlReference => ({ source: 'HashiCorp', id, url: `https://developer.hashicorp.com/vault/${path}` });
const own = (id: string): ControlReference => ({ source: 'Dashboard', id, url: `/findings?control=${id}` });

const AWS: readonly StoreKind[] = ['ssm', 'secretsmanager'];
/**
 * Stores whose reads an audit source records: the AWS stores (CloudTrail), and Vault stores, whose
 * reads are known only where a vault-file audit source covers the store (lib/findings/findings.ts).
 */
const AUDITED: readonly StoreKind[] = ['ssm', 'secretsmanager', 'vault'];
/** Vault's file audit device, where a Vault store's reads come from. */
const vaultAudit = hashicorp('audit/file', 'docs/audit/file');

export const CONTROLS: readonly Control[] = [
  {
    id: 'sm-rotation-enabled',
    title: 'Automatic rotation is not enabled',
    severity: 'medium',
    appliesTo: ['secretsmanager'],
    description: 'A secret that is never rotated automatically stays valid for as long as anyone who copied it keeps it.',
    remediation: 'Turn on rotation with a rotation function and a schedule (Rotation panel, or aws secretsmanager rotate-secret --rotation-rules).',
    references: [prowler('secretsmanager_automatic_rotation_enabled'), securityHub(1), config('secretsmanager-rotation-enabled-check')],
  },
  {
    id: 'sm-rotation-succeeded',
    title: 'The last rotation did not complete',
    severity: 'high',
    appliesTo: ['secretsmanager'],
    description: 'A rotation left a new version pending (AWSPENDING without AWSCURRENT): the rotation function failed part way and the old value is still in use.',
    remediation: "Read the rotation function's logs, fix the cause, then rotate again (or cancel the rotation).",
    references: [prowler('secretsmanager_secret_rotated_successfully'), securityHub(2)],
  },
  {
    id: 'sm-scheduled-rotation',
    title: 'A scheduled rotation did not happen',
    severity: 'medium',
    appliesTo: ['secretsmanager'],
    description: 'Secrets Manager computed a next rotation date that has passed more than a day ago without a rotation.',
    remediation: 'Check that the rotation function exists and may be invoked by Secrets Manager, then rotate now.',
    references: [prowler('secretsmanager_scheduled_rotation_success_check'), config('secretsmanager-scheduled-rotation-success-check')],
  },
  {
    id: 'sm-rotated-periodically',
    title: 'Not rotated within the allowed number of days',
    severity: 'medium',
    appliesTo: ['secretsmanager'],
    description: 'The secret was last rotated (or, never rotated, created) longer ago than the allowed number of days (90 unless FINDINGS_MAX_ROTATION_DAYS says otherwise).',
    remediation: 'Rotate the secret, and schedule rotation so it does not age again.',
    references: [prowler('secretsmanager_secret_rotated_periodically'), securityHub(4), config('secretsmanager-secret-periodic-rotation')],
  },
  {
    id: 'sm-unused',
    title: 'Not used within the allowed number of days',
    severity: 'medium',
    appliesTo: ['secretsmanager'],
    description: "Secrets Manager's last-accessed date is older than the allowed number of days (90 unless FINDINGS_UNUSED_DAYS says otherwise): an unused secret is a credential nobody watches, and it costs money.",
    remediation: 'Confirm on the Used by panel that nothing references it, then schedule its deletion.',
    references: [prowler('secretsmanager_secret_unused'), securityHub(3), config('secretsmanager-secret-unused')],
  },
  {
    id: 'sm-using-cmk',
    title: 'Encrypted with the AWS managed key',
    severity: 'low',
    appliesTo: ['secretsmanager'],
    description: 'The secret is encrypted with aws/secretsmanager, whose key policy you cannot restrict or audit separately.',
    remediation: 'Re-encrypt the secret under a customer managed KMS key (aws secretsmanager update-secret --kms-key-id).',
    references: [prowler('secretsmanager_using_cmk'), config('secretsmanager-using-cmk')],
  },
  {
    id: 'sm-not-public',
    title: 'Readable by anyone (resource policy)',
    severity: 'critical',
    appliesTo: ['secretsmanager'],
    description: 'The resource policy allows a "*" principal with no condition that narrows it to your accounts, organisation or network.',
    remediation: 'Remove the statement, or name the principals (or add aws:PrincipalOrgID / aws:SourceAccount conditions); then rotate the secret.',
    references: [prowler('secretsmanager_not_publicly_accessible')],
  },
  {
    id: 'sm-cross-account',
    title: 'Readable from another account (resource policy)',
    severity: 'high',
    appliesTo: ['secretsmanager'],
    description: 'The resource policy allows principals of other AWS accounts; each such grant widens who can read the secret beyond this account.',
    remediation: 'Confirm each named account needs it; otherwise remove it from the policy. Restrict the rest with conditions.',
    references: [prowler('secretsmanager_has_restrictive_resource_policy')],
  },
  {
    id: 'policy-unreadable',
    title: 'Resource policy could not be read',
    severity: 'informational',
    appliesTo: ['secretsmanager'],
    description: 'GetResourcePolicy was refused or the policy does not parse, so who else may read the secret is unknown.',
    remediation: "Allow the dashboard's role secretsmanager:GetResourcePolicy, or fix the policy document.",
    references: [own('policy-unreadable')],
  },
  {
    id: 'ssm-secure-string-default-key',
    title: 'SecureString on the AWS managed key',
    severity: 'low',
    appliesTo: ['ssm'],
    description: 'The parameter is encrypted with aws/ssm, which every principal allowed to decrypt with it in the account may use.',
    remediation: 'Write the parameter again with a customer managed KMS key (--key-id).',
    references: [own('ssm-secure-string-default-key')],
  },
  {
    id: 'ssm-secret-like-string',
    title: 'A secret-looking name stored as plain String',
    severity: 'high',
    appliesTo: ['ssm'],
    description: 'The name says password, token, key, secret or credential, but the parameter is a String or StringList: its value is stored and shown unencrypted.',
    remediation: 'Write it again as a SecureString (and remove the plain parameter), or rename it if it holds no secret.',
    references: [own('ssm-secret-like-string')],
  },
  {
    id: 'not-rotated-within-policy',
    title: 'Not rotated within its freshness policy',
    severity: 'medium',
    appliesTo: ['ssm', 'local', 'vault'],
    description:
      "The item is overdue by the freshness policy for its path (in Vault, counted from the current version's created_time), or an expiration policy of Parameter Store's has passed.",
    remediation: 'Rotate or generate a new value; the Freshness page lists what else is due.',
    references: [own('not-rotated-within-policy')],
  },
  {
    id: 'not-read-recently',
    title: 'Not read for the allowed number of days',
    severity: 'medium',
    appliesTo: ['ssm', 'vault'],
    description:
      "CloudTrail (for Vault: Vault's audit log) shows no successful read of the value (alone or, for a parameter, by path) within the allowed number of days; neither Parameter Store nor Vault keeps a last-accessed date.",
    remediation: 'Confirm with its owner that nothing still reads it (for a parameter, the Used by panel shows what references it), then delete it.',
    references: [own('not-read-recently'), vaultAudit],
  },
  {
    id: 'unreferenced-and-unread',
    title: 'Referenced by nothing and read by no one',
    severity: 'medium',
    appliesTo: AWS,
    description:
      "No ECS task definition or Lambda function of the scanned accounts names it, and CloudTrail shows no read of it within the allowed number of days (90 unless FINDINGS_UNUSED_DAYS says otherwise): most likely left behind.",
    remediation: 'Ask its owner whether anything outside ECS and Lambda still needs it (EC2, EKS, CI); if nothing does, delete it (Secrets Manager keeps a recovery window).',
    references: [own('unreferenced-and-unread')],
  },
  {
    id: 'referenced-after-deletion',
    title: 'Still referenced after its deletion was scheduled',
    severity: 'high',
    appliesTo: ['secretsmanager'],
    description: 'The secret is scheduled for deletion, yet an ECS task definition or a Lambda function still names it: the workload fails to start (or to read it) once the deletion completes.',
    remediation: 'Restore the secret (aws secretsmanager restore-secret) if the workload still needs it; otherwise deploy the workload without the reference before the recovery window ends.',
    references: [own('referenced-after-deletion')],
  },
  {
    id: 'new-reader',
    title: 'A new reader in the last days',
    severity: 'informational',
    appliesTo: AUDITED,
    description: 'A principal (an IAM role or user; in Vault, a token\'s entity or role) that had not read the item in the 90 days before started reading it recently.',
    remediation: 'Confirm the new reader is expected (a new service, a new role); if not, restrict its IAM policy (in Vault, the policies of its token) and rotate.',
    references: [own('new-reader'), vaultAudit],
  },
  {
    id: 'old-version-read-after-rotation',
    title: 'Readers still ask for the old version after a rotation',
    severity: 'medium',
    appliesTo: AUDITED,
    description:
      'Days after the value changed, a principal still reads a previous version (AWSPREVIOUS, an old version id or number, a label left on an old version; in Vault, ?version= of an older version): it never moved to the new value, so the old one stays in use and cannot be retired.',
    remediation: 'Make the reader ask for the current value (no version or stage), then remove the old label; until then the old value must stay valid.',
    references: [own('old-version-read-after-rotation'), hashicorp('kv-v2/read-secret-version', 'api-docs/secret/kv/kv-v2')],
  },
  {
    id: 'no-owner',
    title: 'No owner tag',
    severity: 'low',
    appliesTo: ['ssm', 'secretsmanager', 'local', 'vault'],
    description: 'Nobody is named as responsible (no owner or team tag; in Vault, no owner or team key in custom_metadata), so nobody is asked when it must be rotated or removed.',
    remediation: 'Add an owner (or team) tag; in Vault, vault kv metadata patch -custom-metadata=owner=… <path>.',
    references: [securityHub(5), own('no-owner'), hashicorp('kv-v2/custom-metadata', 'docs/secrets/kv/kv-v2/cookbook/custom-metadata')],
  },
  {
    id: 'vault-current-version-deleted',
    title: 'The current version is deleted',
    severity: 'low',
    appliesTo: ['vault'],
    description:
      "The secret's current version is deleted (by vault kv delete or delete_version_after) or destroyed: a read of the secret returns nothing, so whoever still reads it gets no value, yet the key stays listed and its older versions may still be read by number.",
    remediation:
      'If the secret is retired, remove it with its history (vault kv metadata delete); if it is still needed, undelete the version (vault kv undelete -versions=N) or write a new one.',
    references: [hashicorp('kv-v2/delete-data', 'docs/secrets/kv/kv-v2/cookbook/delete-data'), hashicorp('kv-v2/undelete-data', 'docs/secrets/kv/kv-v2/cookbook/undelete-data')],
  },
  {
    id: 'plaintext-in-lambda',
    title: 'A secret in plain text in a Lambda environment',
    severity: 'critical',
    appliesTo: [],
    description:
      'An environment variable of a Lambda function holds what looks like a credential (a known key format or a high-entropy token): anyone allowed lambda:GetFunctionConfiguration reads it, and it is copied into every deployment.',
    remediation: 'Move the value into Secrets Manager or a SecureString parameter, read it at run time (or through the Parameters and Secrets extension), rotate it, then remove the variable.',
    references: [prowler('awslambda_function_no_secrets_in_variables')],
  },
  {
    id: 'plaintext-in-ecs',
    title: 'A secret in plain text in an ECS task definition',
    severity: 'critical',
    appliesTo: [],
    description:
      'An `environment` entry of an ECS task definition holds what looks like a credential: anyone allowed ecs:DescribeTaskDefinition reads it, and every revision keeps it.',
    remediation: 'Move the value into Secrets Manager or Parameter Store and pass it with `secrets[].valueFrom`, rotate it, then register a revision without it and deregister the old ones.',
    references: [prowler('ecs_task_definitions_no_environment_secrets'), ecsControl(8)],
  },
];

const BY_ID = new Map(CONTROLS.map((c) => [c.id, c]));

export function controlOf(id: ControlId): Control {
  return BY_ID.get(id)!;
}
