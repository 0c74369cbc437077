import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { DAY_MS, TEAMS, type Catalogue, type Draw, type Env, type SecretPlan } from './catalogue';
import { ciRole, rotationFunctionRole, serviceRole, ssoUser, type DemoPrincipal } from './principals';
import { kmsKeyArnOf, record, secretArnOf, type Call, type RecordContext } from './records';

// The everyday CloudTrail of one account: services reading their configuration at start and their
// secrets every few days, CI deploying (PutParameter) and checking, people looking things up in
// working hours, rotation functions rotating database credentials on schedule. The stories
// (stories.ts) are added on top.

export interface Cast {
  services: Map<string, DemoPrincipal>;
  ci: DemoPrincipal;
  people: { principal: DemoPrincipal; email: string }[];
  rotation: Map<string, DemoPrincipal>;
  /** LastModifiedUser ARN → who that is, for the PutParameter events of parameter changes. */
  byArn: Map<string, { principal: DemoPrincipal; session: string }>;
}

export function castOf(account: string, env: Env): Cast {
  const services = new Map<string, DemoPrincipal>();
  const rotation = new Map<string, DemoPrincipal>();
  for (const team of TEAMS) {
    for (const service of team.services) services.set(`${team.team}/${service}`, serviceRole(account, team.team, service));
    rotation.set(team.team, rotationFunctionRole(account, `${team.team}-secret-rotation`));
  }
  const ci = ciRole(account, env === 'prod' ? 'github-actions-deploy' : 'github-actions-deploy-staging');
  const people = [
    { email: 'maria.lopez@example.com', principal: ssoUser(account, 'maria.lopez@example.com', 'AdministratorAccess') },
    { email: 'sam.okafor@example.com', principal: ssoUser(account, 'sam.okafor@example.com', 'PowerUserAccess') },
    { email: 'li.wei@example.com', principal: ssoUser(account, 'li.wei@example.com', 'PowerUserAccess') },
    { email: 'ana.silva@example.com', principal: ssoUser(account, 'ana.silva@example.com', 'ReadOnlyAccess') },
  ];
  const byArn = new Map<string, { principal: DemoPrincipal; session: string }>();
  byArn.set(ci.identity('gh-deploy').arn!, { principal: ci, session: 'gh-deploy' });
  for (const p of people.slice(0, 3)) byArn.set(p.principal.identity(p.email).arn!, { principal: p.principal, session: p.email });
  return { services, ci, people, rotation, byArn };
}

/** The ARNs the catalogue writes as LastModifiedUser. */
export function changersOf(cast: Cast) {
  const arns = [...cast.byArn.keys()];
  return { ci: arns[0]!, people: arns.slice(1) };
}

export interface ActivityOptions {
  ctx: RecordContext;
  env: Env;
  cast: Cast;
  catalogue: Catalogue;
  secrets: SecretPlan[];
  /** [from, to) in epoch ms. */
  from: number;
  to: number;
  r: Draw;
}

const int = (r: Draw, min: number, max: number) => min + Math.floor(r() * (max - min + 1));
const pick = <T>(r: Draw, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
/** A time in the working day (08:00–18:00 UTC) of the day starting at `day`. */
const workHours = (r: Draw, day: number) => day + 8 * 3_600_000 + Math.floor(r() * 10 * 3_600_000);
const anyTime = (r: Draw, day: number) => day + Math.floor(r() * DAY_MS);

export function routineActivity(options: ActivityOptions): CloudTrailRecord[] {
  const { ctx, env, cast, catalogue, secrets, from, to, r } = options;
  const { account, region } = ctx;
  const calls: Call[] = [];
  const serviceSecrets = secrets.filter((s) => s.readBy === 'service' && s.service !== null);
  const parameterNames = catalogue.parameters.map((p) => p.Name);
  // Every third day: enough for "last accessed" to be recent, few enough for LookupEvents (2 calls a second) to fetch 90 days in under 3 minutes.
  const readEvery = 3;
  const firstDay = Math.floor(from / DAY_MS) * DAY_MS;

  for (let day = firstDay; day < to; day += DAY_MS) {
    const dayIndex = Math.round(day / DAY_MS);
    // Services start (deploys, scaling) and read their configuration.
    for (const [key, role] of cast.services) {
      const [team, service] = key.split('/') as [string, string];
      if (env === 'staging' && r() < 0.4) continue;
      calls.push({
        at: anyTime(r, day),
        by: role,
        session: `ecs-task-${(dayIndex % 997).toString(16)}${service.length}`,
        eventSource: 'ssm.amazonaws.com',
        eventName: 'GetParametersByPath',
        readOnly: true,
        requestParameters: { path: `/${team}/${service}/`, recursive: true, withDecryption: true },
      });
    }
    // Services read their secrets every few days (they cache them in between).
    for (const plan of serviceSecrets) {
      if ((dayIndex + plan.input.Name.length) % readEvery !== 0) continue;
      const role = cast.services.get(`${plan.team.team}/${plan.service}`)!;
      const at = anyTime(r, day);
      const session = `ecs-task-${(dayIndex % 997).toString(16)}`;
      calls.push({ at, by: role, session, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: plan.input.Name } });
      if (r() < 0.25)
        calls.push({
          at: at + 40,
          by: role,
          session,
          identity: { ...role.identity(session), invokedBy: 'secretsmanager.amazonaws.com' },
          eventSource: 'kms.amazonaws.com',
          eventName: 'Decrypt',
          readOnly: true,
          requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { SecretARN: secretArnOf(account, region, plan.input.Name), SecretVersionId: ctx.nextId() } },
          resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: kmsKeyArnOf(account, region) }],
        });
    }
    // CI checks what it deploys; people look things up during the working day.
    for (let i = 0; i < (env === 'prod' ? 6 : 4); i++)
      calls.push({ at: workHours(r, day), by: cast.ci, session: `gh-run-${dayIndex}${i}`, eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', readOnly: true, requestParameters: { name: pick(r, parameterNames), withDecryption: false } });
    for (let i = 0; i < 3; i++) {
      const person = pick(r, cast.people);
      calls.push({ at: workHours(r, day), by: person.principal, session: person.email, eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', readOnly: true, requestParameters: { name: pick(r, parameterNames), withDecryption: false } });
    }
    for (let i = 0; i < 2; i++) {
      const person = pick(r, cast.people);
      calls.push({ at: workHours(r, day), by: person.principal, session: person.email, eventSource: 'secretsmanager.amazonaws.com', eventName: 'DescribeSecret', readOnly: true, requestParameters: { secretId: pick(r, secrets).input.Name } });
    }
  }

  // Rotations of the secrets that rotate on schedule, back from their last rotation.
  for (const plan of secrets) {
    const input = plan.input;
    if (!input.RotationEnabled || input.LastRotatedDate === undefined) continue;
    const every = (input.RotationDays ?? 30) * DAY_MS;
    for (let at = Date.parse(String(input.LastRotatedDate)); at >= from; at -= every) if (at < to) calls.push(...rotationCalls(cast, plan, at));
  }

  // Parameter changes: PutParameter by whoever the parameter says changed it.
  for (const change of catalogue.parameterChanges) {
    if (change.at < from || change.at >= to) continue;
    const who = cast.byArn.get(change.by);
    if (!who) continue;
    calls.push({
      at: change.at,
      by: who.principal,
      session: who.session,
      eventSource: 'ssm.amazonaws.com',
      eventName: 'PutParameter',
      readOnly: false,
      requestParameters: { name: change.name, type: change.type, overwrite: change.version > 1, tier: 'Standard' },
      responseElements: { version: change.version, tier: 'Standard' },
    });
  }
  // Days are drawn whole: keep only what falls inside [from, to), so two adjacent spans share their boundary day.
  return calls.filter((call) => call.at >= from && call.at < to).map((call) => record(ctx, call));
}

/** What one scheduled rotation writes: Secrets Manager starts it, the team's function does the steps. */
export function rotationCalls(cast: Cast, plan: SecretPlan, at: number): Call[] {
  const fn = cast.rotation.get(plan.team.team)!;
  const name = plan.input.Name;
  const session = `${plan.team.team}-secret-rotation`;
  const step = (offset: number, eventName: string, readOnly: boolean, requestParameters: Record<string, unknown>): Call => ({
    at: at + offset,
    by: fn,
    session,
    eventSource: 'secretsmanager.amazonaws.com',
    eventName,
    readOnly,
    requestParameters,
  });
  return [
    step(0, 'RotateSecret', false, { secretId: name }),
    step(1_500, 'GetSecretValue', true, { secretId: name, versionStage: 'AWSCURRENT' }),
    step(2_500, 'PutSecretValue', false, { secretId: name, clientRequestToken: `rotation-${Math.floor(at / 1000)}`, versionStages: ['AWSPENDING'] }),
    step(6_000, 'UpdateSecretVersionStage', false, { secretId: name, versionStage: 'AWSCURRENT', moveToVersionId: `rotation-${Math.floor(at / 1000)}` }),
  ];
}
