import type { CloudTrailRecord } from '@/lib/cloudtrail/types';

// Who acts in the demo organisation, as CloudTrail names them: each team's service role (sessions
// per task), CI roles, rotation functions, and people signing in through IAM Identity Center (SSO).

export type Identity = NonNullable<CloudTrailRecord['userIdentity']>;

export interface DemoPrincipal {
  /** The role (or user) behind the calls: what the dashboard counts readers by. */
  roleArn: string;
  /** One session's identity for a call; `session` picks the session name. */
  identity(session: string): Identity;
  userAgent: string;
  /** A private (service) or public (people) address. */
  sourceIp: string;
}

const SSO_SUFFIX = '7c1f0e8a2b9d4c63';

function assumedRole(account: string, role: string, roleId: string, userAgent: string, sourceIp: string): DemoPrincipal {
  const roleArn = `arn:aws:iam::${account}:role/${role}`;
  return {
    roleArn,
    userAgent,
    sourceIp,
    identity: (session) => ({
      type: 'AssumedRole',
      principalId: `${roleId}:${session}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
      accountId: account,
      sessionContext: { sessionIssuer: { type: 'Role', arn: roleArn, userName: role } },
    }),
  };
}

/** A deterministic role id (AROA + 17 characters) from the role's name. */
function roleIdOf(account: string, role: string): string {
  let h = 2166136261;
  for (const c of `${account}/${role}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return `AROA${h.toString(36).toUpperCase().padStart(7, 'Q')}DEMO${account.slice(-6)}`.slice(0, 21);
}

export function serviceRole(account: string, team: string, service: string): DemoPrincipal {
  const role = `${team}-${service}`;
  return assumedRole(account, role, roleIdOf(account, role), 'aws-sdk-js/3.600.0 ua/2.1 os/linux lang/js md/nodejs#20.11.1', `10.${account === '111111111111' ? 20 : 40}.${team.length * 7}.${service.length * 11}`);
}

export function ciRole(account: string, role: string): DemoPrincipal {
  return assumedRole(account, role, roleIdOf(account, role), 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22', '140.82.112.21');
}

export function rotationFunctionRole(account: string, function_: string): DemoPrincipal {
  const role = `${function_}-role`;
  return assumedRole(account, role, roleIdOf(account, role), 'aws-sdk-python/1.34.0 Python/3.12 exec-env/AWS_Lambda_python3.12', '10.0.0.0');
}

/** A person signed in through IAM Identity Center with a permission set. */
export function ssoUser(account: string, email: string, permissionSet: 'AdministratorAccess' | 'PowerUserAccess' | 'ReadOnlyAccess'): DemoPrincipal {
  const role = `AWSReservedSSO_${permissionSet}_${SSO_SUFFIX}`;
  const principal = assumedRole(account, role, roleIdOf(account, role), 'aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64', '198.51.100.24');
  // Readers are counted by role; for people the session (the email) is who it was.
  return { ...principal, identity: () => principal.identity(email) };
}

/** Secrets Manager calling KMS on a caller's behalf (the Decrypt behind a GetSecretValue). */
export const SECRETS_MANAGER_SERVICE: Identity = { type: 'AWSService', invokedBy: 'secretsmanager.amazonaws.com' };
export const SSM_SERVICE: Identity = { type: 'AWSService', invokedBy: 'ssm.amazonaws.com' };
