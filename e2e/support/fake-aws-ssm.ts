import { createHash } from 'node:crypto';
import { HISTORY_SENTINEL, KMS_DENIED_MESSAGE, KMS_DENIED_PARAMETER, WRITER_ARN, parameterArn, type FakeParameter, type ParameterPolicy, type Tag } from './fake-aws-data';
import { AwsFault, optionalString, page, requiredString, type Body } from './fake-aws-protocol';
import type { FakeAwsEnv, FakeAwsState, ParameterState, ParameterVersion } from './fake-aws-state';

// Parameter Store (AmazonSSM) over the fake's state: the browsing calls, the value reads and
// PutParameter, with the validation AWS applies.

const MAX_VALUE_BYTES = { Standard: 4096, Advanced: 8192 } as const;
const MAX_VERSIONS = 100;
const DATA_TYPES = ['text', 'aws:ec2:image', 'aws:ssm:integration'];
const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
const PARAMETER_NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;

const current = (p: ParameterState): ParameterVersion => p.versions.at(-1)!;

function parameterMetadata(p: ParameterState) {
  const v = current(p);
  return {
    Name: p.Name,
    ARN: parameterArn(p.Name),
    Type: v.Type,
    ...(v.KeyId ? { KeyId: v.KeyId } : {}),
    ...(v.Description ? { Description: v.Description } : {}),
    ...(v.AllowedPattern ? { AllowedPattern: v.AllowedPattern } : {}),
    LastModifiedDate: v.LastModifiedDate,
    LastModifiedUser: v.LastModifiedUser,
    Version: v.Version,
    Tier: v.Tier,
    Policies: v.Policies,
    DataType: v.DataType,
  };
}

function findParameter(state: FakeAwsState, name: unknown): ParameterState {
  const found = typeof name === 'string' ? state.parameters.get(name) : undefined;
  if (!found) throw new AwsFault('ParameterNotFound', `Parameter ${String(name)} not found.`);
  return found;
}

function parentOf(name: string): string {
  const cut = name.lastIndexOf('/');
  return cut <= 0 ? '/' : name.slice(0, cut);
}

function matchesFilters(p: ParameterState, filters: unknown): boolean {
  if (!Array.isArray(filters)) return true;
  return filters.every((f: { Key?: string; Option?: string; Values?: string[] }) => {
    const values = f.Values ?? [];
    if (f.Key === 'Path') {
      return values.some((v) => (f.Option === 'Recursive' ? v === '/' || p.Name.startsWith(`${v}/`) : parentOf(p.Name) === v));
    }
    if (f.Key === 'Name') return values.some((v) => (f.Option === 'BeginsWith' ? p.Name.startsWith(v) : p.Name === v));
    throw new AwsFault('InvalidFilterKey', `The filter key ${String(f.Key)} is not supported by the fake.`);
  });
}

/** A SecureString read without decryption comes back as ciphertext (a stand-in: never the plaintext). */
function ciphertext(p: ParameterState, v: ParameterVersion): string {
  const digest = createHash('sha256').update(`${p.Name}\0${v.Version}\0${v.Value}`).digest('base64');
  return `AQICAHh${digest}`;
}

function valueOf(p: ParameterState, v: ParameterVersion, withDecryption: boolean): string {
  return v.Type === 'SecureString' && !withDecryption ? ciphertext(p, v) : v.Value;
}

/** "name", "name:3" (a version) or "name:live" (a label), as GetParameter(s) accept. */
function select(state: FakeAwsState, selectorName: string): { p: ParameterState; v: ParameterVersion; selector?: string } {
  const colon = selectorName.indexOf(':');
  if (colon < 0) {
    const p = findParameter(state, selectorName);
    return { p, v: current(p) };
  }
  const p = findParameter(state, selectorName.slice(0, colon));
  const selector = selectorName.slice(colon);
  const key = selector.slice(1);
  if (/^\d+$/.test(key)) {
    const v = p.versions.find((x) => x.Version === Number(key));
    if (!v) throw new AwsFault('ParameterVersionNotFound', `Systems Manager could not find version ${key} of ${p.Name}. Verify the version and try again.`);
    return { p, v, selector };
  }
  const v = p.versions.find((x) => x.Labels.includes(key));
  if (!v) throw new AwsFault('ParameterNotFound', `Parameter ${selectorName} not found.`);
  return { p, v, selector };
}

function valueEntry(p: ParameterState, v: ParameterVersion, withDecryption: boolean, selector?: string) {
  return {
    Name: p.Name,
    Type: v.Type,
    Value: valueOf(p, v, withDecryption),
    Version: v.Version,
    ...(selector ? { Selector: selector } : {}),
    LastModifiedDate: v.LastModifiedDate,
    ARN: parameterArn(p.Name),
    DataType: v.DataType,
  };
}

function validationError(message: string): AwsFault {
  return new AwsFault('ValidationException', message);
}

function patternOf(allowedPattern: string): RegExp {
  try {
    return new RegExp(allowedPattern);
  } catch {
    throw validationError('The AllowedPattern is not a valid regular expression.');
  }
}

function parsePolicies(text: string | undefined): ParameterPolicy[] | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AwsFault('InvalidPolicyTypeException', 'The policy is not valid JSON.');
  }
  if (!Array.isArray(parsed)) throw new AwsFault('InvalidPolicyTypeException', 'Policies must be a JSON array.');
  return parsed.map((policy: { Type?: unknown }) => {
    if (!['Expiration', 'ExpirationNotification', 'NoChangeNotification'].includes(String(policy?.Type)))
      throw new AwsFault('InvalidPolicyTypeException', `The policy type ${String(policy?.Type)} is not supported.`);
    return { PolicyText: JSON.stringify(policy), PolicyType: String(policy.Type), PolicyStatus: 'Pending' };
  });
}

function putParameter(state: FakeAwsState, env: FakeAwsEnv, body: Body) {
  const name = requiredString(body, 'Name');
  const value = requiredString(body, 'Value');
  if (!PARAMETER_NAME.test(name)) throw validationError('Parameter name must only contain letters, numbers and the symbols .-_/ (at most 2048 characters).');
  if (/^\/?(aws|ssm)/i.test(name)) throw validationError(`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`);
  if (value.length === 0) throw validationError("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
  const overwrite = body.Overwrite === true;
  const tags = body.Tags as Tag[] | undefined;
  const existing = state.parameters.get(name);
  if (Array.isArray(tags) && tags.length > 0 && overwrite)
    throw validationError(
      'Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.',
    );
  if (existing && !overwrite)
    throw new AwsFault('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');

  const before = existing ? current(existing) : undefined;
  const type = (optionalString(body, 'Type') ?? before?.Type) as FakeParameter['Type'] | undefined;
  if (!type) throw validationError('A parameter type is required when you create a parameter.');
  if (!['String', 'StringList', 'SecureString'].includes(type))
    throw validationError(`1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`);

  const sentKeyId = optionalString(body, 'KeyId');
  if (sentKeyId !== undefined && type !== 'SecureString') throw validationError('KeyId is required for SecureString type parameter only.');
  // Without a KeyId, a SecureString is encrypted with the account's default key (AWS does not keep the old one).
  const keyId = type === 'SecureString' ? (sentKeyId ?? 'alias/aws/ssm') : undefined;

  const dataType = optionalString(body, 'DataType') ?? before?.DataType ?? 'text';
  if (!DATA_TYPES.includes(dataType)) throw validationError(`The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
  if (dataType === 'aws:ec2:image') {
    if (type !== 'String') throw validationError('The aws:ec2:image data type is only supported for parameters of type String.');
    // Never echo the value: it may be a secret sent to the wrong parameter.
    if (!AMI_ID.test(value)) throw validationError('Parameter value is not a valid AMI ID. An AMI ID has the format ami-12345abcdeEXAMPLE.');
  }

  const allowedPattern = optionalString(body, 'AllowedPattern') ?? before?.AllowedPattern;
  if (allowedPattern !== undefined && !patternOf(allowedPattern).test(value))
    throw validationError('Parameter value failed to satisfy constraint specified by allowed pattern.');

  const policies = parsePolicies(optionalString(body, 'Policies')) ?? before?.Policies ?? [];
  const bytes = Buffer.byteLength(value, 'utf8');
  const sentTier = optionalString(body, 'Tier') as FakeParameter['Tier'] | undefined;
  if (sentTier !== undefined && !['Standard', 'Advanced', 'Intelligent-Tiering'].includes(sentTier))
    throw validationError(`1 validation error detected: Value '${sentTier}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]`);
  const wasAdvanced = before?.Tier === 'Advanced';
  // Intelligent-Tiering picks Advanced only when the parameter needs it; an advanced parameter stays advanced.
  const tier: 'Standard' | 'Advanced' =
    sentTier === 'Advanced' || (sentTier === undefined && wasAdvanced)
      ? 'Advanced'
      : sentTier === 'Intelligent-Tiering'
        ? wasAdvanced || bytes > MAX_VALUE_BYTES.Standard || policies.length > 0
          ? 'Advanced'
          : 'Standard'
        : 'Standard';
  if (wasAdvanced && tier === 'Standard')
    throw validationError(
      "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
    );
  if (bytes > MAX_VALUE_BYTES[tier])
    throw validationError(
      tier === 'Standard'
        ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html'
        : 'Advanced tier parameters support a maximum parameter value of 8192 characters.',
    );
  if (policies.length > 0 && tier === 'Standard') throw validationError('Parameter policies are supported only for advanced parameters. Use the advanced-parameter tier.');

  const description = optionalString(body, 'Description') ?? before?.Description;
  const next: ParameterVersion = {
    Version: (before?.Version ?? 0) + 1,
    Value: value,
    LastModifiedDate: env.now(),
    LastModifiedUser: WRITER_ARN,
    Labels: [],
    Type: type,
    Tier: tier,
    DataType: dataType,
    ...(keyId ? { KeyId: keyId } : {}),
    ...(description ? { Description: description } : {}),
    ...(allowedPattern !== undefined ? { AllowedPattern: allowedPattern } : {}),
    Policies: policies,
  };
  if (existing) {
    if (existing.versions.length >= MAX_VERSIONS) {
      // AWS drops the oldest version to make room, unless a label holds it.
      if (existing.versions[0]!.Labels.length > 0)
        throw new AwsFault(
          'ParameterMaxVersionLimitExceeded',
          `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${existing.versions[0]!.Version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
        );
      existing.versions.shift();
    }
    existing.versions.push(next);
  } else {
    state.parameters.set(name, { Name: name, Tags: Array.isArray(tags) ? structuredClone(tags) : [], versions: [next] });
  }
  return { Version: next.Version, Tier: next.Tier };
}

export function ssm(state: FakeAwsState, env: FakeAwsEnv, operation: string, body: Body): unknown {
  const withDecryption = body.WithDecryption === true;
  switch (operation) {
    case 'DescribeParameters': {
      const all = [...state.parameters.values()].filter((p) => matchesFilters(p, body.ParameterFilters)).sort((a, b) => (a.Name < b.Name ? -1 : 1));
      const { items, NextToken } = page(all, body, 50);
      return { Parameters: items.map(parameterMetadata), ...(NextToken ? { NextToken } : {}) };
    }
    case 'GetParameterHistory': {
      const p = findParameter(state, body.Name);
      if (p.Name === KMS_DENIED_PARAMETER) throw new AwsFault('AccessDeniedException', KMS_DENIED_MESSAGE);
      const entries = p.versions.map((v) => ({
        Name: p.Name,
        Type: v.Type,
        ...(v.KeyId ? { KeyId: v.KeyId } : {}),
        LastModifiedDate: v.LastModifiedDate,
        LastModifiedUser: v.LastModifiedUser,
        ...(v.Description ? { Description: v.Description } : {}),
        // AWS returns the value with every history entry (ciphertext for SecureString without decryption).
        Value: HISTORY_SENTINEL,
        ...(v.AllowedPattern ? { AllowedPattern: v.AllowedPattern } : {}),
        Version: v.Version,
        Labels: v.Labels,
        Tier: v.Tier,
        Policies: v.Policies,
        DataType: v.DataType,
        ARN: parameterArn(p.Name),
      }));
      const { items, NextToken } = page(entries, body, 50);
      return { Parameters: items, ...(NextToken ? { NextToken } : {}) };
    }
    case 'ListTagsForResource': {
      if (body.ResourceType !== 'Parameter') throw new AwsFault('InvalidResourceType', 'Only Parameter resources are in the fake.');
      const p = typeof body.ResourceId === 'string' ? state.parameters.get(body.ResourceId) : undefined;
      if (!p) throw new AwsFault('InvalidResourceId', 'The resource ID is not valid.');
      return { TagList: p.Tags };
    }
    case 'GetParameter': {
      const { p, v, selector } = select(state, requiredString(body, 'Name'));
      return { Parameter: valueEntry(p, v, withDecryption, selector) };
    }
    case 'GetParameters': {
      const names = Array.isArray(body.Names) ? (body.Names as unknown[]).map(String) : [];
      if (names.length < 1 || names.length > 10)
        throw validationError(`1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`);
      const Parameters = [];
      const InvalidParameters = [];
      for (const name of names) {
        try {
          const { p, v, selector } = select(state, name);
          Parameters.push(valueEntry(p, v, withDecryption, selector));
        } catch (error) {
          if (!(error instanceof AwsFault)) throw error;
          InvalidParameters.push(name);
        }
      }
      return { Parameters, InvalidParameters };
    }
    case 'GetParametersByPath': {
      const path = requiredString(body, 'Path');
      if (!path.startsWith('/')) throw validationError('The parameter path must begin with a forward slash (/).');
      const base = path.endsWith('/') ? path : `${path}/`;
      const all = [...state.parameters.values()]
        .filter((p) => p.Name.startsWith(base) && (body.Recursive === true || !p.Name.slice(base.length).includes('/')))
        .sort((a, b) => (a.Name < b.Name ? -1 : 1))
        .map((p) => valueEntry(p, current(p), withDecryption));
      const { items, NextToken } = page(all, body, 10);
      return { Parameters: items, ...(NextToken ? { NextToken } : {}) };
    }
    case 'PutParameter':
      return putParameter(state, env, body);
    default:
      throw new AwsFault('UnknownOperationException', `The fake does not implement AmazonSSM.${operation}.`);
  }
}

/** The stored values of a parameter, for the control endpoint (tests only). */
export function parameterValues(state: FakeAwsState, name: string) {
  const p = state.parameters.get(name);
  if (!p) return null;
  return { current: current(p).Value, versions: p.versions.map((v) => ({ id: v.Version, value: v.Value, labels: v.Labels })) };
}
