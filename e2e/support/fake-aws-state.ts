import { PARAMETERS, SECRETS, VALUE_SENTINEL, type FakeParameter, type FakeSecret, type ParameterPolicy, type Tag } from './fake-aws-data';

// One fake AWS instance's mutable state, built from a deep copy of the initial data set, so that
// writes in one instance never show in another (vitest starts several). Dates are absolute here:
// epoch seconds, as AWS sends them.

/** One version of a parameter with the attributes it was written with (GetParameterHistory shows them per version). */
export interface ParameterVersion {
  Version: number;
  Value: string;
  LastModifiedDate: number;
  LastModifiedUser: string;
  Labels: string[];
  Type: FakeParameter['Type'];
  Tier: FakeParameter['Tier'];
  DataType: string;
  KeyId?: string;
  Description?: string;
  AllowedPattern?: string;
  Policies: ParameterPolicy[];
}

export interface ParameterState {
  Name: string;
  Tags: Tag[];
  /** Oldest first; the last one is the current version. */
  versions: ParameterVersion[];
}

export interface SecretVersion {
  VersionId: string;
  CreatedDate: number;
  stages: string[];
  SecretString?: string;
  /** Base64, as the JSON protocol carries blobs. */
  SecretBinary?: string;
}

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

export interface RotationState {
  enabled: boolean;
  lambda?: string;
  rules?: RotationRules;
  lastRotated?: number;
  next?: number;
  /** The simulated rotation function fails every rotation. */
  alwaysFails: boolean;
  /** The ClientRequestToken of the rotation the function is running now (CancelRotateSecret stops it). */
  running?: string;
}

export interface SecretState {
  Name: string;
  Description?: string;
  KmsKeyId?: string;
  rotation: RotationState;
  Replication?: { Region: string; Status: string; LastAccessedDate: number }[];
  Tags: Tag[];
  versions: SecretVersion[];
  created: number;
  lastChanged: number;
  lastAccessed?: number;
}

export interface FakeAwsState {
  parameters: Map<string, ParameterState>;
  secrets: Map<string, SecretState>;
}

const DAY = 86_400;

function parameterState(p: FakeParameter, ago: (days: number) => number): ParameterState {
  return {
    Name: p.Name,
    Tags: structuredClone(p.Tags),
    versions: p.history.map(([days, user, labels], i) => ({
      Version: i + 1,
      Value: p.value ?? VALUE_SENTINEL,
      LastModifiedDate: ago(days),
      LastModifiedUser: user,
      Labels: [...labels],
      Type: p.Type,
      Tier: p.Tier,
      DataType: p.DataType,
      ...(p.KeyId ? { KeyId: p.KeyId } : {}),
      ...(p.Description ? { Description: p.Description } : {}),
      Policies: structuredClone(p.Policies ?? []),
    })),
  };
}

function secretState(s: FakeSecret, ago: (days: number) => number): SecretState {
  const days = s.versions.map(([, d]) => d);
  return {
    Name: s.Name,
    ...(s.Description ? { Description: s.Description } : {}),
    ...(s.KmsKeyId ? { KmsKeyId: s.KmsKeyId } : {}),
    rotation: s.Rotation
      ? {
          enabled: true,
          lambda: s.Rotation.lambda,
          rules: { AutomaticallyAfterDays: s.Rotation.days, ...(s.Rotation.schedule ? { ScheduleExpression: s.Rotation.schedule } : {}) },
          lastRotated: ago(s.Rotation.lastRotated),
          next: ago(s.Rotation.next),
          alwaysFails: s.Rotation.fails === true,
        }
      : { enabled: false, alwaysFails: false },
    ...(s.Replication ? { Replication: s.Replication.map((r) => ({ ...r, LastAccessedDate: ago(2) })) } : {}),
    Tags: structuredClone(s.Tags),
    versions: s.versions.map(([VersionId, d, stages]) => ({ VersionId, CreatedDate: ago(d), stages: [...stages], SecretString: s.value ?? VALUE_SENTINEL })),
    created: ago(Math.max(...days)),
    lastChanged: ago(Math.min(...days)),
    ...(s.lastAccessed !== undefined ? { lastAccessed: ago(s.lastAccessed) } : {}),
  };
}

/** A fresh state from the initial data set, dated relative to `nowSeconds`. */
export function initialState(nowSeconds: number): FakeAwsState {
  const now = Math.floor(nowSeconds);
  const ago = (days: number) => now - Math.round(days * DAY);
  return {
    parameters: new Map(PARAMETERS.map((p) => [p.Name, parameterState(p, ago)])),
    secrets: new Map(SECRETS.map((s) => [s.Name, secretState(s, ago)])),
  };
}

/** What the state's operations need from their server instance. */
export interface FakeAwsEnv {
  /** Now, in epoch seconds (fractional, as AWS sends dates). */
  now: () => number;
  /** How long the simulated rotation function takes to finish a rotation. */
  rotationDelayMs: () => number;
  /** Runs `fn` later; the server cancels what is still waiting when it closes or resets. */
  later: (delayMs: number, fn: () => void) => void;
}
