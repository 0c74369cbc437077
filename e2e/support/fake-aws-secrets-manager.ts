import { randomBytes, randomUUID } from 'node:crypto';
import { REGION, secretArn } from './fake-aws-data';
import { AwsFault, optionalString, page, requiredString, type Body } from './fake-aws-protocol';
import { nextRotation, validateRotationRules } from './fake-aws-rotation-schedule';
import type { FakeAwsEnv, FakeAwsState, SecretState, SecretVersion } from './fake-aws-state';

// Secrets Manager over the fake's state: the browsing calls, GetSecretValue, PutSecretValue with
// its idempotency, and rotation. RotateSecret stands in for the rotation Lambda: it creates the
// AWSPENDING version at once (the function's createSecret step) and, after the instance's rotation
// delay, finishes (AWSCURRENT moves to it), unless the secret's function always fails.

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const PENDING = 'AWSPENDING';
const MAX_SECRET_BYTES = 65_536;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;

const invalidParameter = (message: string) => new AwsFault('InvalidParameterException', message);
const invalidRequest = (message: string) => new AwsFault('InvalidRequestException', message);

function versionsToStages(s: SecretState): Record<string, string[]> {
  return Object.fromEntries(s.versions.filter((v) => v.stages.length > 0).map((v) => [v.VersionId, v.stages]));
}

function secretListEntry(s: SecretState) {
  const r = s.rotation;
  return {
    ARN: secretArn(s.Name),
    Name: s.Name,
    ...(s.Description ? { Description: s.Description } : {}),
    ...(s.KmsKeyId ? { KmsKeyId: s.KmsKeyId } : {}),
    RotationEnabled: r.enabled,
    ...(r.lambda ? { RotationLambdaARN: r.lambda } : {}),
    ...(r.rules ? { RotationRules: r.rules } : {}),
    ...(r.lastRotated !== undefined ? { LastRotatedDate: r.lastRotated } : {}),
    ...(r.enabled && r.next !== undefined ? { NextRotationDate: r.next } : {}),
    LastChangedDate: s.lastChanged,
    ...(s.lastAccessed !== undefined ? { LastAccessedDate: s.lastAccessed } : {}),
    Tags: s.Tags,
    SecretVersionsToStages: versionsToStages(s),
    CreatedDate: s.created,
    PrimaryRegion: REGION,
  };
}

function findSecret(state: FakeAwsState, id: unknown): SecretState {
  const found = typeof id === 'string' ? (state.secrets.get(id) ?? [...state.secrets.values()].find((s) => secretArn(s.Name) === id)) : undefined;
  if (!found) throw new AwsFault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  return found;
}

const withStage = (s: SecretState, stage: string) => s.versions.find((v) => v.stages.includes(stage));

/** A rotation AWS considers unfinished: AWSPENDING on a version that is not also AWSCURRENT. */
function unfinishedRotation(s: SecretState): SecretVersion | undefined {
  return s.versions.find((v) => v.stages.includes(PENDING) && !v.stages.includes(CURRENT));
}

function attachStage(s: SecretState, stage: string, to: SecretVersion): void {
  for (const v of s.versions) if (v !== to) v.stages = v.stages.filter((x) => x !== stage);
  if (!to.stages.includes(stage)) to.stages.push(stage);
}

/** AWSCURRENT moves to `to`; the version it leaves gets AWSPREVIOUS, as AWS does. */
function makeCurrent(s: SecretState, to: SecretVersion): void {
  const old = withStage(s, CURRENT);
  if (old === to) return;
  attachStage(s, CURRENT, to);
  if (old) attachStage(s, PREVIOUS, old);
}

function checkToken(token: string): void {
  if (token.length < 32 || token.length > 64) throw invalidParameter('ClientRequestToken must be between 32 and 64 characters long.');
}

/** The rotation function's new value: a JSON secret keeps its shape with a new password; anything else is a new random string. */
function rotatedValue(current: string | undefined): string {
  const fresh = randomBytes(24).toString('base64url');
  try {
    const parsed: unknown = JSON.parse(current ?? '');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'password' in parsed) return JSON.stringify({ ...parsed, password: fresh });
  } catch {
    // Not JSON: a plain random value.
  }
  return fresh;
}

function getSecretValue(state: FakeAwsState, env: FakeAwsEnv, body: Body) {
  const s = findSecret(state, body.SecretId);
  const versionId = optionalString(body, 'VersionId');
  const stage = optionalString(body, 'VersionStage');
  let version: SecretVersion | undefined;
  if (versionId !== undefined) {
    version = s.versions.find((v) => v.VersionId === versionId);
    if (!version || (stage !== undefined && !version.stages.includes(stage)))
      throw new AwsFault('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
  } else {
    const wanted = stage ?? CURRENT;
    version = withStage(s, wanted);
    if (!version) throw new AwsFault('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${wanted}`);
  }
  // AWS keeps the date of the last access only, not the time.
  s.lastAccessed = Math.floor(env.now() / 86_400) * 86_400;
  return {
    ARN: secretArn(s.Name),
    Name: s.Name,
    VersionId: version.VersionId,
    ...(version.SecretString !== undefined ? { SecretString: version.SecretString } : {}),
    ...(version.SecretBinary !== undefined ? { SecretBinary: version.SecretBinary } : {}),
    VersionStages: version.stages,
    CreatedDate: version.CreatedDate,
  };
}

function putSecretValue(state: FakeAwsState, env: FakeAwsEnv, body: Body) {
  const s = findSecret(state, body.SecretId);
  const token = optionalString(body, 'ClientRequestToken') ?? randomUUID();
  checkToken(token);
  const secretString = optionalString(body, 'SecretString');
  const secretBinary = optionalString(body, 'SecretBinary');
  if ((secretString === undefined) === (secretBinary === undefined)) throw invalidParameter('You must provide either SecretString or SecretBinary, but not both.');
  const bytes = secretString !== undefined ? Buffer.byteLength(secretString, 'utf8') : Buffer.from(secretBinary!, 'base64').length;
  if (bytes > MAX_SECRET_BYTES) throw invalidParameter(`The secret value exceeds the maximum size of ${MAX_SECRET_BYTES} bytes.`);
  const stages = body.VersionStages === undefined ? [CURRENT] : body.VersionStages;
  if (!Array.isArray(stages) || stages.length < 1 || stages.length > 20 || !stages.every((x) => typeof x === 'string' && x.length >= 1 && x.length <= 256))
    throw invalidParameter('VersionStages must list 1 to 20 staging labels.');

  const existing = s.versions.find((v) => v.VersionId === token);
  if (existing) {
    // A retry: the same token with the same value is ignored; a version can never change.
    if (existing.SecretString !== secretString || existing.SecretBinary !== secretBinary)
      throw new AwsFault('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
    return { ARN: secretArn(s.Name), Name: s.Name, VersionId: existing.VersionId, VersionStages: existing.stages };
  }
  const version: SecretVersion = {
    VersionId: token,
    CreatedDate: env.now(),
    stages: [],
    ...(secretString !== undefined ? { SecretString: secretString } : { SecretBinary: secretBinary! }),
  };
  s.versions.push(version);
  for (const stage of stages as string[]) {
    if (stage === CURRENT) makeCurrent(s, version);
    else attachStage(s, stage, version);
  }
  s.lastChanged = env.now();
  return { ARN: secretArn(s.Name), Name: s.Name, VersionId: version.VersionId, VersionStages: version.stages };
}

/** The simulated function's last steps: the pending version becomes current. */
function finishRotation(s: SecretState, env: FakeAwsEnv, token: string): void {
  if (s.rotation.running !== token) return; // cancelled, or the state was reset
  s.rotation.running = undefined;
  const version = s.versions.find((v) => v.VersionId === token);
  if (!version || !version.stages.includes(PENDING)) return;
  makeCurrent(s, version);
  version.stages = version.stages.filter((x) => x !== PENDING);
  const now = env.now();
  s.rotation.lastRotated = now;
  s.rotation.next = s.rotation.rules ? nextRotation(s.rotation.rules, now, now) : undefined;
  s.lastChanged = now;
}

function rotateSecret(state: FakeAwsState, env: FakeAwsEnv, body: Body) {
  const s = findSecret(state, body.SecretId);
  const token = optionalString(body, 'ClientRequestToken') ?? randomUUID();
  checkToken(token);
  const rules = body.RotationRules === undefined || body.RotationRules === null ? undefined : validateRotationRules(body.RotationRules);
  const sentLambda = optionalString(body, 'RotationLambdaARN');
  if (sentLambda !== undefined && !LAMBDA_ARN.test(sentLambda)) throw invalidParameter('RotationLambdaARN must be the ARN of a Lambda function.');
  const lambda = sentLambda ?? s.rotation.lambda;
  if (!lambda) throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
  const immediately = body.RotateImmediately !== false;
  const answer = { ARN: secretArn(s.Name), Name: s.Name };

  // A retry of a rotation already started with this token: it rotates once.
  if (immediately && s.versions.some((v) => v.VersionId === token)) return { ...answer, VersionId: token };
  if (unfinishedRotation(s)) throw invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");

  const now = env.now();
  s.rotation.lambda = lambda;
  if (rules) s.rotation.rules = rules;
  s.rotation.enabled = true;
  if (!immediately) {
    s.rotation.next = s.rotation.rules ? nextRotation(s.rotation.rules, s.rotation.lastRotated, now) : undefined;
    return answer;
  }
  const pending: SecretVersion = { VersionId: token, CreatedDate: now, stages: [PENDING], SecretString: rotatedValue(withStage(s, CURRENT)?.SecretString) };
  s.versions.push(pending);
  s.lastChanged = now;
  // A failing function leaves AWSPENDING behind (its setSecret step errors) and never finishes.
  if (!s.rotation.alwaysFails) {
    s.rotation.running = token;
    env.later(env.rotationDelayMs(), () => finishRotation(s, env, token));
  }
  return { ...answer, VersionId: token };
}

function cancelRotateSecret(s: SecretState) {
  // The rules and the function stay, so RotateSecret can turn rotation back on; AWSPENDING stays too, as AWS warns.
  s.rotation.enabled = false;
  s.rotation.next = undefined;
  s.rotation.running = undefined;
  const pending = unfinishedRotation(s);
  return { ARN: secretArn(s.Name), Name: s.Name, ...(pending ? { VersionId: pending.VersionId } : {}) };
}

function updateSecretVersionStage(s: SecretState, env: FakeAwsEnv, body: Body) {
  const stage = requiredString(body, 'VersionStage', 'InvalidParameterException');
  const moveTo = optionalString(body, 'MoveToVersionId');
  const removeFrom = optionalString(body, 'RemoveFromVersionId');
  const version = (id: string) => {
    const found = s.versions.find((v) => v.VersionId === id);
    if (!found) throw new AwsFault('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${id}`);
    return found;
  };
  const holder = withStage(s, stage);
  if (removeFrom !== undefined && holder?.VersionId !== removeFrom)
    throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}.`);
  if (moveTo !== undefined) {
    const target = version(moveTo);
    if (holder && holder !== target && removeFrom === undefined)
      throw invalidParameter(
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    if (stage === CURRENT) makeCurrent(s, target);
    else attachStage(s, stage, target);
  } else if (removeFrom !== undefined) {
    if (stage === CURRENT) throw invalidParameter('You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.');
    version(removeFrom).stages = version(removeFrom).stages.filter((x) => x !== stage);
  }
  s.lastChanged = env.now();
  return { ARN: secretArn(s.Name), Name: s.Name };
}

export function secretsManager(state: FakeAwsState, env: FakeAwsEnv, operation: string, body: Body): unknown {
  switch (operation) {
    case 'ListSecrets': {
      const filters = (body.Filters as { Key?: string; Values?: string[] }[] | undefined) ?? [];
      const all = [...state.secrets.values()]
        .filter((s) =>
          filters.every((f) => {
            if (f.Key !== 'name') throw invalidParameter(`The fake supports only the name filter, not ${String(f.Key)}.`);
            return (f.Values ?? []).some((v) => s.Name.startsWith(v));
          }),
        )
        .sort((a, b) => (a.Name < b.Name ? -1 : 1));
      if (body.SortOrder === 'desc') all.reverse();
      const { items, NextToken } = page(all, body, 100);
      return { SecretList: items.map(secretListEntry), ...(NextToken ? { NextToken } : {}) };
    }
    case 'DescribeSecret': {
      const s = findSecret(state, body.SecretId);
      const { SecretVersionsToStages, ...entry } = secretListEntry(s);
      return {
        ...entry,
        VersionIdsToStages: SecretVersionsToStages,
        ...(s.Replication ? { ReplicationStatus: s.Replication.map((r) => ({ ...r, KmsKeyId: 'alias/aws/secretsmanager' })) } : {}),
      };
    }
    case 'ListSecretVersionIds': {
      const s = findSecret(state, body.SecretId);
      const all = s.versions
        .filter((v) => body.IncludeDeprecated === true || v.stages.length > 0)
        .map((v) => ({ VersionId: v.VersionId, VersionStages: v.stages, CreatedDate: v.CreatedDate, KmsKeyIds: [s.KmsKeyId ?? 'DefaultEncryptionKey'] }));
      const { items, NextToken } = page(all, body, 100);
      return { Versions: items, ARN: secretArn(s.Name), Name: s.Name, ...(NextToken ? { NextToken } : {}) };
    }
    case 'GetSecretValue':
      return getSecretValue(state, env, body);
    case 'PutSecretValue':
      return putSecretValue(state, env, body);
    case 'RotateSecret':
      return rotateSecret(state, env, body);
    case 'CancelRotateSecret':
      return cancelRotateSecret(findSecret(state, body.SecretId));
    case 'UpdateSecretVersionStage':
      return updateSecretVersionStage(findSecret(state, body.SecretId), env, body);
    default:
      throw new AwsFault('UnknownOperationException', `The fake does not implement secretsmanager.${operation}.`);
  }
}

/** The stored values of a secret, for the control endpoint (tests only). */
export function secretValues(state: FakeAwsState, name: string) {
  const s = state.secrets.get(name) ?? [...state.secrets.values()].find((x) => secretArn(x.Name) === name);
  if (!s) return null;
  const valueOf = (v: SecretVersion) => v.SecretString ?? v.SecretBinary ?? null;
  const current = withStage(s, CURRENT);
  return { current: current ? valueOf(current) : null, versions: s.versions.map((v) => ({ id: v.VersionId, value: valueOf(v), stages: v.stages })) };
}
