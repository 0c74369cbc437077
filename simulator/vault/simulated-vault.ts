import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { afterLatency, answerControl, CallCounters, cancelAll, sendJson, serveAlone, TokenBucket, type Controllable, type Standalone } from '../sim-http';
import { listMethodRelay, ORIGINAL_METHOD_HEADER } from './list-method';
import { VaultAuditFile } from './vault-audit-file';
import type { GeneratedSet } from './vault-data-set';
import { badRequest, formatDuration, KvStore, notFound, parseDuration, rfc3339, VaultError, type KvEntry } from './vault-kv';
import { Acl, policyInput, type VaultOperation, type VaultPolicyInput } from './vault-policies';

// A simulated HashiCorp Vault node: the HTTP API under /v1 as Vault's API docs describe it, for the
// dashboard's Vault store, its tests, the benchmark and the demo. KV v2 (and KV v1) mounts, token,
// AppRole and Kubernetes auth, ACL policies, namespaces (header or path prefix), sys/health and the
// sealed / standby / uninitialised answers, rate limit quotas answered 429 as Vault answers them, the
// file audit device, a latency per call and counters of what it was asked. Everything is in memory.
// See simulator/README.md ("The simulated Vault") for what it implements and what it does not.

export const VAULT_VERSION = '1.17.6';
export const VAULT_DEFAULT_LATENCY_MS = 10;
/** Vault's default max_lease_ttl (768h): the longest a token lives, renewals included, unless told otherwise. */
const SYSTEM_MAX_TTL_S = 768 * 3600;
const PERMISSION_DENIED = 'permission denied';
/** An ACL refusal, as Vault words it (a multierror). */
const ACL_DENIED = '1 error occurred:\n\t* permission denied\n\n';

const seconds = z.union([z.number().min(0), z.string()]).transform((v) => parseDuration(v) / 1000);

const mountInput = z.object({
  /** Mount path without slashes, e.g. 'secret' or 'kv/team-a'. */
  path: z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/),
  version: z.union([z.literal(1), z.literal(2)]).default(2),
  /** The namespace the mount lives in ('' = root). */
  namespace: z.string().default(''),
  maxVersions: z.number().int().min(0).optional(),
  casRequired: z.boolean().optional(),
  deleteVersionAfter: seconds.optional(),
  description: z.string().default(''),
  /** Generated sets (see vault-data-set.ts). */
  data: z.array(z.object({ kind: z.enum(['generated', 'demo']), count: z.number().int().min(0).optional(), seed: z.number().int().optional(), prefix: z.string().optional() })).default([]),
  /** Explicit secrets: each element of `versions` is one version's data, oldest first. */
  secrets: z
    .array(z.object({ path: z.string().min(1), versions: z.array(z.record(z.string(), z.unknown())).min(1), customMetadata: z.record(z.string(), z.string()).optional() }))
    .default([]),
});
export type VaultMountInput = z.input<typeof mountInput>;

const tokenInput = z.object({
  /** The token itself (default a new hvs. token). */
  id: z.string().min(1).optional(),
  policies: z.array(z.string()).default(['default']),
  /** Seconds or Go duration text; 0 = never expires (a root token). Default 768h. */
  ttl: seconds.optional(),
  /** The most the token may live, renewals included (default 768h; 0 with ttl 0). */
  explicitMaxTtl: seconds.optional(),
  renewable: z.boolean().default(true),
  namespace: z.string().default(''),
  displayName: z.string().default('token'),
  meta: z.record(z.string(), z.string()).nullable().default(null),
  entityId: z.string().default(''),
});
export type VaultTokenInput = z.input<typeof tokenInput>;

const approleInput = z.object({
  roleName: z.string().min(1),
  roleId: z.string().min(1),
  secretIds: z.array(z.string().min(1)).min(1),
  policies: z.array(z.string()).default([]),
  tokenTtl: seconds.default(3600),
  tokenMaxTtl: seconds.optional(),
});
export type VaultAppRoleInput = z.input<typeof approleInput>;

const kubernetesRoleInput = z.object({
  name: z.string().min(1),
  boundServiceAccountNames: z.array(z.string()).min(1),
  boundServiceAccountNamespaces: z.array(z.string()).min(1),
  policies: z.array(z.string()).default([]),
  tokenTtl: seconds.default(3600),
  tokenMaxTtl: seconds.optional(),
});
export type VaultKubernetesRoleInput = z.input<typeof kubernetesRoleInput>;

/** A service-account token the simulated cluster issued (what a pod finds in its token file). */
const serviceAccountInput = z.object({ jwt: z.string().min(1), name: z.string().min(1), namespace: z.string().min(1), uid: z.string().optional() });
export type VaultServiceAccountInput = z.input<typeof serviceAccountInput>;

/** A rate limit quota (sys/quotas/rate-limit/<name>): `rate` requests per `interval` seconds on `path` ('' = global, 'ns1/', 'secret/', 'secret/data/x'). */
const rateLimitInput = z.object({ name: z.string().min(1), path: z.string().default(''), rate: z.number().min(0), interval: z.number().min(0.001).default(1) });
export type VaultRateLimitInput = z.input<typeof rateLimitInput>;

const auditInput = z.object({ path: z.string().min(1), salt: z.string().optional(), logRaw: z.boolean().optional() });

const controlCommand = z
  .object({
    sealed: z.boolean(),
    initialized: z.boolean(),
    /** Standby: requests other than sys/health, sys/seal-status and sys/leader are answered as a standby answers them. */
    standby: z.boolean(),
    /** The active node's api_addr a standby redirects to (307); null = no active node known (500). */
    activeAddress: z.string().url().nullable(),
    latencyMs: z.number().min(0).max(600_000),
    rateLimits: z.array(rateLimitInput),
    tokens: z.array(tokenInput),
    revokeTokens: z.array(z.string()),
    /** Tokens that expire now (as if their TTL ran out). */
    expireTokens: z.array(z.string()),
    policies: z.array(policyInput),
    approles: z.array(approleInput),
    kubernetesRoles: z.array(kubernetesRoleInput),
    serviceAccounts: z.array(serviceAccountInput),
    /** Enables the file audit device at this file (null disables it). */
    audit: auditInput.nullable(),
    rotateAudit: z.boolean(),
    /** Moves the simulator's clock forward (token expiry, delete_version_after). */
    advanceClockMs: z.number().min(0),
    mounts: z.array(mountInput),
    /** Secrets written as a client would write them (a new version each). */
    writeSecrets: z.array(z.object({ mount: z.string(), namespace: z.string().default(''), path: z.string().min(1), data: z.record(z.string(), z.unknown()) })),
    resetStats: z.boolean(),
  })
  .partial()
  .strict();
export type VaultControlCommand = z.input<typeof controlCommand>;

export interface SimulatedVaultOptions {
  port?: number;
  host?: string;
  /** Default 10 ms. */
  latencyMs?: number;
  /** Default one KV v2 mount `secret` with no data. */
  mounts?: VaultMountInput[];
  /** Namespaces (Vault Enterprise / HCP), e.g. ['team-a', 'team-a/child']. */
  namespaces?: string[];
  policies?: VaultPolicyInput[];
  /** The root token (default 'root', as `vault server -dev`). */
  rootToken?: string;
  tokens?: VaultTokenInput[];
  approles?: VaultAppRoleInput[];
  kubernetesRoles?: VaultKubernetesRoleInput[];
  serviceAccounts?: VaultServiceAccountInput[];
  rateLimits?: VaultRateLimitInput[];
  audit?: z.input<typeof auditInput>;
  sealed?: boolean;
  initialized?: boolean;
  standby?: boolean;
  activeAddress?: string | null;
  /** Seed of generated data (default 1). */
  seed?: number;
  /** Generated secrets made when first touched (default) or all at start. */
  lazy?: boolean;
  /** The time generated data is generated for (epoch ms; default now). */
  now?: number;
  /** Requests kept for GET /__requests (default 10,000; 0 = none). */
  recordLimit?: number;
}

interface Token {
  id: string;
  accessor: string;
  policies: string[];
  displayName: string;
  meta: Record<string, string> | null;
  entityId: string;
  namespace: string;
  path: string;
  issued: number;
  /** Creation TTL in seconds (0 = never expires). */
  ttl: number;
  expires: number | null;
  maxExpires: number | null;
  renewable: boolean;
}

export interface RecordedRequest {
  time: string;
  method: string;
  namespace: string;
  /** The path after /v1/ and the namespace. */
  path: string;
  operation: VaultOperation;
  status: number;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Mount {
  path: string;
  namespace: string;
  description: string;
  accessor: string;
  uuid: string;
  store: KvStore;
}

export interface SimulatedVaultHandler {
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void;
  handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean;
  control(cmd: VaultControlCommand): { tokens: { client_token: string; accessor: string }[]; rotated?: string };
  stats(): ReturnType<CallCounters['stats']> & { latencyMs: number; sealed: boolean; standby: boolean; initialized: boolean; secrets: Record<string, number>; auditLines: number };
  resetStats(): void;
  /** Requests received (newest last), within recordLimit. */
  requests(): RecordedRequest[];
  /** The audit device's HMAC of a value (what sys/audit-hash answers); null without an audit device. */
  auditHash(value: string): string | null;
  /** The mount's store (tests). */
  store(mount: string, namespace?: string): KvStore;
  rootToken: string;
  close(): void;
}

export type SimulatedVault = Standalone<SimulatedVaultHandler>;

const base62 = (bytes: number) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(bytes)].map((b) => alphabet[b % 62]).join('');
};
const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');

export function createSimulatedVault(options: SimulatedVaultOptions = {}): SimulatedVaultHandler {
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const dataNow = options.now ?? Date.now();
  const settings = {
    latencyMs: options.latencyMs ?? VAULT_DEFAULT_LATENCY_MS,
    sealed: options.sealed ?? false,
    initialized: options.initialized ?? true,
    standby: options.standby ?? false,
    activeAddress: options.activeAddress ?? null,
  };
  const namespaces = new Set((options.namespaces ?? []).map(trimSlashes));
  const policies = new Map<string, VaultPolicyInput>();
  for (const p of options.policies ?? []) policies.set(p.name, policyInput.parse(p));
  const tokens = new Map<string, Token>();
  const approles = new Map<string, z.infer<typeof approleInput>>();
  const kubernetesRoles = new Map<string, z.infer<typeof kubernetesRoleInput>>();
  const serviceAccounts = new Map<string, z.infer<typeof serviceAccountInput>>();
  let rateLimits: { quota: z.infer<typeof rateLimitInput>; bucket: TokenBucket }[] = [];
  let audit: VaultAuditFile | null = options.audit ? new VaultAuditFile(options.audit) : null;
  const counters = new CallCounters();
  const recordLimit = options.recordLimit ?? 10_000;
  let recorded: RecordedRequest[] = [];
  const mounts = new Map<string, Mount>();
  const clusterId = randomUUID();

  const mountKey = (namespace: string, path: string) => (namespace ? `${namespace}/${path}` : path);
  const addMount = (input: VaultMountInput) => {
    const m = mountInput.parse(input);
    const store = new KvStore({
      version: m.version,
      config: { ...(m.maxVersions !== undefined ? { maxVersions: m.maxVersions } : {}), ...(m.casRequired !== undefined ? { casRequired: m.casRequired } : {}), ...(m.deleteVersionAfter !== undefined ? { deleteVersionAfterMs: m.deleteVersionAfter * 1000 } : {}) },
      sets: m.data as GeneratedSet[],
      seed: options.seed,
      now: dataNow,
      lazy: options.lazy,
    });
    for (const s of m.secrets) {
      s.versions.forEach((data, i) => {
        if (m.version === 2) store.write(s.path, data, undefined, dataNow - (s.versions.length - i) * 3_600_000);
        else store.writeV1(s.path, data);
      });
      if (m.version === 2 && s.customMetadata) store.writeMetadata(s.path, { custom_metadata: s.customMetadata }, dataNow);
    }
    const key = mountKey(trimSlashes(m.namespace), m.path);
    const digest = createHash('sha256').update(key).digest('hex');
    mounts.set(key, { path: m.path, namespace: trimSlashes(m.namespace), description: m.description, accessor: `kv_${digest.slice(0, 8)}`, uuid: `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`, store });
  };
  for (const m of options.mounts ?? [{ path: 'secret', version: 2 }]) addMount(m);

  const issueToken = (input: VaultTokenInput): Token => {
    const t = tokenInput.parse(input);
    const at = now();
    const ttl = t.ttl ?? SYSTEM_MAX_TTL_S;
    const maxTtl = t.explicitMaxTtl ?? (ttl === 0 ? 0 : SYSTEM_MAX_TTL_S);
    const token: Token = {
      id: t.id ?? `hvs.${base62(24)}`,
      accessor: base62(24),
      policies: [...new Set(t.policies)].sort(),
      displayName: t.displayName,
      meta: t.meta,
      entityId: t.entityId,
      namespace: trimSlashes(t.namespace),
      path: 'auth/token/create',
      issued: at,
      ttl,
      expires: ttl === 0 ? null : at + ttl * 1000,
      maxExpires: maxTtl === 0 ? null : at + maxTtl * 1000,
      renewable: ttl === 0 ? false : t.renewable,
    };
    if (token.expires !== null && token.maxExpires !== null) token.expires = Math.min(token.expires, token.maxExpires);
    tokens.set(token.id, token);
    return token;
  };
  const rootToken = issueToken({ id: options.rootToken ?? 'root', policies: ['root'], ttl: 0, renewable: false, displayName: 'root' });
  rootToken.path = 'auth/token/root';
  for (const t of options.tokens ?? []) issueToken(t);
  for (const r of options.approles ?? []) approles.set(r.roleId, approleInput.parse(r));
  for (const r of options.kubernetesRoles ?? []) kubernetesRoles.set(r.name, kubernetesRoleInput.parse(r));
  for (const s of options.serviceAccounts ?? []) serviceAccounts.set(s.jwt, serviceAccountInput.parse(s));
  const setRateLimits = (list: VaultRateLimitInput[]) => {
    rateLimits = list.map((q) => {
      const quota = rateLimitInput.parse(q);
      return { quota, bucket: new TokenBucket(quota.rate / quota.interval, quota.rate) };
    });
  };
  setRateLimits(options.rateLimits ?? []);

  const tokenLive = (t: Token) => t.expires === null || t.expires > now();
  const ttlLeft = (t: Token) => (t.expires === null ? 0 : Math.max(0, Math.round((t.expires - now()) / 1000)));
  const aclOf = (t: Token) => new Acl([...policies.values()], t.policies);

  const envelope = (data: unknown, extra: Record<string, unknown> = {}) => ({
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...extra,
  });
  const authBlock = (t: Token, extra: Record<string, unknown> = {}) => ({
    client_token: t.id,
    accessor: t.accessor,
    policies: t.policies,
    token_policies: t.policies,
    metadata: t.meta,
    lease_duration: ttlLeft(t),
    renewable: t.renewable,
    entity_id: t.entityId,
    token_type: 'service',
    orphan: true,
    mfa_requirement: null,
    num_uses: 0,
    ...extra,
  });

  // ---- KV ------------------------------------------------------------------------------------------

  const versionMeta = (e: KvEntry, n: number) => {
    const v = e.versions.get(n)!;
    return { created_time: rfc3339(v.created), custom_metadata: e.custom, deletion_time: rfc3339(v.deleted), destroyed: v.destroyed, version: n };
  };
  const versionList = (body: Record<string, unknown>): number[] => {
    const list = body.versions;
    const raw = Array.isArray(list) ? list : typeof list === 'string' || typeof list === 'number' ? String(list).split(',') : [];
    const versions = raw.map((v) => Number(v)).filter((v) => Number.isInteger(v) && v > 0);
    if (versions.length === 0) throw badRequest('no version number provided');
    return versions;
  };

  /** A KV v2 request under a mount: `kind` (data, metadata, delete, …) and the key. */
  const kvV2 = (store: KvStore, kind: string, key: string, operation: VaultOperation, query: URLSearchParams, body: Record<string, unknown>): Answer => {
    const at = now();
    const ok = (data: unknown) => ({ status: 200, body: envelope(data) });
    const noContent = { status: 204 };
    const write = operation === 'create' || operation === 'update';
    switch (kind) {
      case 'config':
        if (key !== '') throw notFound();
        if (operation === 'read') return ok({ cas_required: store.config.casRequired, delete_version_after: formatDuration(store.config.deleteVersionAfterMs), max_versions: store.config.maxVersions });
        if (!write) throw new VaultError(405, ['unsupported operation']);
        if (body.max_versions !== undefined) store.config.maxVersions = Number(body.max_versions);
        if (body.cas_required !== undefined) store.config.casRequired = body.cas_required === true;
        if (body.delete_version_after !== undefined) store.config.deleteVersionAfterMs = parseDuration(body.delete_version_after);
        return noContent;
      case 'data': {
        if (operation === 'list') throw new VaultError(405, ['unsupported operation']);
        if (key === '') throw operation === 'read' ? notFound() : badRequest('missing path');
        if (operation === 'read') {
          const e = store.entry(key);
          const asked = query.get('version');
          const n = asked === null || asked === '0' ? (e?.current ?? 0) : Number(asked);
          if (!e || !Number.isInteger(n) || !e.versions.has(n)) throw notFound();
          const v = e.versions.get(n)!;
          const meta = versionMeta(e, n);
          if (v.destroyed || (v.deleted !== null && v.deleted <= at)) throw new VaultError(404, [], envelope({ data: null, metadata: meta }));
          return ok({ data: v.data, metadata: meta });
        }
        if (operation === 'delete') {
          const e = store.entry(key);
          const v = e?.versions.get(e.current);
          if (v && !v.destroyed && (v.deleted === null || v.deleted > at)) v.deleted = at;
          return noContent;
        }
        const data = body.data;
        if (!data || typeof data !== 'object' || Array.isArray(data)) throw badRequest('no data provided');
        const opts = (body.options ?? {}) as Record<string, unknown>;
        const cas = opts.cas === undefined || opts.cas === null ? undefined : Number(opts.cas);
        if (cas !== undefined && !Number.isInteger(cas)) throw badRequest('check-and-set parameter must be a number');
        const written = store.write(key, data as Record<string, unknown>, cas, at);
        const e = store.entry(key)!;
        return ok({ created_time: rfc3339(written.created), custom_metadata: e.custom, deletion_time: rfc3339(written.deleted), destroyed: false, version: written.version });
      }
      case 'metadata': {
        if (operation === 'list') {
          const keys = store.list(key === '' ? '' : `${key.replace(/\/+$/, '')}/`);
          if (!keys) throw notFound();
          return ok({ keys });
        }
        if (operation === 'read') {
          const e = key === '' ? undefined : store.entry(key);
          if (!e) throw notFound();
          const versions: Record<string, unknown> = {};
          for (const [n, v] of [...e.versions].sort(([a], [b]) => a - b)) versions[String(n)] = { created_time: rfc3339(v.created), deletion_time: rfc3339(v.deleted), destroyed: v.destroyed };
          return ok({
            cas_required: e.casRequired,
            created_time: rfc3339(e.created),
            current_version: e.current,
            custom_metadata: e.custom,
            delete_version_after: formatDuration(e.deleteVersionAfterMs),
            max_versions: e.maxVersions,
            oldest_version: e.oldest,
            updated_time: rfc3339(e.updated),
            versions,
          });
        }
        if (key === '') throw badRequest('missing path');
        if (operation === 'delete') {
          store.deleteKey(key);
          return noContent;
        }
        store.writeMetadata(key, body, at);
        return noContent;
      }
      case 'delete':
      case 'undelete':
      case 'destroy': {
        if (!write) throw new VaultError(405, ['unsupported operation']);
        const versions = versionList(body);
        const e = store.entry(key);
        for (const n of versions) {
          const v = e?.versions.get(n);
          if (!v) continue;
          if (kind === 'delete' && !v.destroyed && (v.deleted === null || v.deleted > at)) v.deleted = at;
          if (kind === 'undelete' && !v.destroyed) v.deleted = null;
          if (kind === 'destroy') Object.assign(v, { destroyed: true, data: null });
        }
        return noContent;
      }
      default:
        throw new VaultError(404, ['1 error occurred:\n\t* unsupported path\n\n']);
    }
  };

  const kvV1 = (store: KvStore, key: string, operation: VaultOperation, body: Record<string, unknown>): Answer => {
    if (operation === 'list') {
      const keys = store.list(key === '' ? '' : `${key.replace(/\/+$/, '')}/`);
      if (!keys) throw notFound();
      return { status: 200, body: envelope({ keys }) };
    }
    if (key === '') throw operation === 'read' ? notFound() : badRequest('missing path');
    if (operation === 'read') {
      const data = store.readV1(key);
      if (!data) throw notFound();
      return { status: 200, body: envelope(data, { lease_duration: 2_764_800 }) };
    }
    if (operation === 'delete') store.deleteKey(key);
    else store.writeV1(key, body);
    return { status: 204 };
  };

  // ---- auth ----------------------------------------------------------------------------------------

  const loginToken = (policiesOf: string[], ttl: number, maxTtl: number | undefined, displayName: string, meta: Record<string, string>, namespace: string) => {
    const t = issueToken({ policies: ['default', ...policiesOf], ttl, explicitMaxTtl: maxTtl, displayName, meta, namespace, entityId: randomUUID() });
    t.path = displayName.startsWith('kubernetes') ? 'auth/kubernetes/login' : 'auth/approle/login';
    return t;
  };
  const approleLogin = (body: Record<string, unknown>, namespace: string): Token => {
    if (typeof body.role_id !== 'string' || body.role_id === '') throw badRequest('missing role_id');
    const role = approles.get(body.role_id);
    if (!role || typeof body.secret_id !== 'string' || !role.secretIds.includes(body.secret_id)) throw badRequest('invalid role or secret ID');
    return loginToken(role.policies, role.tokenTtl, role.tokenMaxTtl, 'approle', { role_name: role.roleName }, namespace);
  };
  const kubernetesLogin = (body: Record<string, unknown>, namespace: string): Token => {
    if (typeof body.role !== 'string' || body.role === '') throw badRequest('missing role');
    if (typeof body.jwt !== 'string' || body.jwt === '') throw badRequest('missing jwt');
    const role = kubernetesRoles.get(body.role);
    if (!role) throw badRequest(`invalid role name "${body.role}"`);
    const sa = serviceAccounts.get(body.jwt);
    if (!sa) throw new VaultError(403, [PERMISSION_DENIED]);
    const bound = (list: string[], value: string) => list.includes('*') || list.includes(value);
    if (!bound(role.boundServiceAccountNames, sa.name)) throw new VaultError(403, ['service account name not authorized']);
    if (!bound(role.boundServiceAccountNamespaces, sa.namespace)) throw new VaultError(403, ['namespace not authorized']);
    return loginToken(role.policies, role.tokenTtl, role.tokenMaxTtl, `kubernetes-${sa.namespace}-${sa.name}`, {
      role: role.name,
      service_account_name: sa.name,
      service_account_namespace: sa.namespace,
      service_account_secret_name: '',
      service_account_uid: sa.uid ?? createHash('sha256').update(sa.jwt).digest('hex').slice(0, 32),
    }, namespace);
  };

  const lookupSelf = (t: Token) => ({
    accessor: t.accessor,
    creation_time: Math.floor(t.issued / 1000),
    creation_ttl: t.ttl,
    display_name: t.displayName,
    entity_id: t.entityId,
    expire_time: t.expires === null ? null : rfc3339(t.expires),
    explicit_max_ttl: t.maxExpires === null ? 0 : Math.round((t.maxExpires - t.issued) / 1000),
    id: t.id,
    issue_time: rfc3339(t.issued),
    meta: t.meta,
    num_uses: 0,
    orphan: true,
    path: t.path,
    policies: t.policies,
    renewable: t.renewable,
    ttl: ttlLeft(t),
    type: 'service',
    ...(t.namespace ? { namespace_path: `${t.namespace}/` } : {}),
  });

  const renewSelf = (t: Token, body: Record<string, unknown>): Answer => {
    if (!t.renewable) throw badRequest('lease is not renewable');
    const at = now();
    const increment = body.increment === undefined ? t.ttl : parseDuration(body.increment) / 1000;
    let expires = at + increment * 1000;
    let warnings: string[] | null = null;
    if (t.maxExpires !== null && expires > t.maxExpires) {
      expires = t.maxExpires;
      warnings = [`TTL of "${formatDuration(increment * 1000)}" exceeded the effective max_ttl of "${formatDuration(t.maxExpires - at)}"; TTL value is capped accordingly`];
    }
    t.expires = expires;
    return { status: 200, body: envelope(null, { auth: authBlock(t), warnings }) };
  };

  // ---- sys -----------------------------------------------------------------------------------------

  const mountDescription = (m: Mount) => ({
    type: 'kv',
    options: { version: String(m.store.version) },
    description: m.description,
    accessor: m.accessor,
    uuid: m.uuid,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    plugin_version: '',
    running_plugin_version: 'v0.20.0+builtin',
    running_sha256: '',
  });

  const health = (query: URLSearchParams): Answer => {
    const code = (name: string, fallback: number) => (query.has(name) && /^\d+$/.test(query.get(name)!) ? Number(query.get(name)) : fallback);
    const truthy = (name: string) => query.has(name) && query.get(name) !== 'false';
    const status = !settings.initialized
      ? code('uninitcode', 501)
      : settings.sealed
        ? code('sealedcode', 503)
        : settings.standby
          ? truthy('standbyok')
            ? code('activecode', 200)
            : code('standbycode', 429)
          : code('activecode', 200);
    return {
      status,
      body: {
        initialized: settings.initialized,
        sealed: settings.sealed || !settings.initialized,
        standby: settings.standby,
        performance_standby: false,
        replication_performance_mode: 'disabled',
        replication_dr_mode: 'disabled',
        server_time_utc: Math.floor(now() / 1000),
        version: VAULT_VERSION,
        enterprise: namespaces.size > 0,
        cluster_name: 'vault-cluster-simulated',
        cluster_id: clusterId,
        echo_duration_ms: 0,
        clock_skew_ms: 0,
      },
    };
  };
  const sealStatus = (): Answer => ({
    status: 200,
    body: {
      type: 'shamir',
      initialized: settings.initialized,
      sealed: settings.sealed || !settings.initialized,
      t: 1,
      n: 1,
      progress: 0,
      nonce: '',
      version: VAULT_VERSION,
      build_date: '2024-10-01T00:00:00Z',
      migration: false,
      recovery_seal: false,
      storage_type: 'inmem',
      ...(settings.initialized && !settings.sealed ? { cluster_name: 'vault-cluster-simulated', cluster_id: clusterId } : {}),
    },
  });
  const leader = (): Answer => ({
    status: 200,
    body: {
      ha_enabled: true,
      is_self: !settings.standby,
      active_time: settings.standby ? '0001-01-01T00:00:00Z' : rfc3339(dataNow),
      leader_address: settings.standby ? (settings.activeAddress ?? '') : 'self',
      leader_cluster_address: '',
      performance_standby: false,
      performance_standby_last_remote_wal: 0,
    },
  });

  // ---- the request pipeline ------------------------------------------------------------------------

  const errorBody = (e: VaultError) => e.body ?? { errors: e.errors };

  /** Decides the answer at arrival (quotas see arrival times); it is sent after the latency. */
  const decide = (req: IncomingMessage, raw: Buffer): { answer: Answer; counterKey: string; record?: Omit<RecordedRequest, 'status'> } => {
    const url = new URL(req.url ?? '/', 'http://vault');
    const method = req.headers[ORIGINAL_METHOD_HEADER] === 'LIST' ? 'LIST' : (req.method ?? 'GET').toUpperCase();
    const query = url.searchParams;
    if (!url.pathname.startsWith('/v1/')) return { answer: { status: 404, body: { errors: [] } }, counterKey: 'other' };
    let rest = decodeURIComponent(url.pathname.slice('/v1/'.length));
    const operation: VaultOperation | null =
      method === 'LIST' || (method === 'GET' && (query.get('list') === 'true' || query.get('list') === '1'))
        ? 'list'
        : method === 'GET' || method === 'HEAD'
          ? 'read'
          : method === 'POST' || method === 'PUT'
            ? 'update'
            : method === 'DELETE'
              ? 'delete'
              : null;

    // Unauthenticated sys endpoints, answered whatever the node's state.
    const plain = rest.replace(/\/+$/, '');
    if (plain === 'sys/health' || plain === 'sys/seal-status' || plain === 'sys/leader') {
      const answer = plain === 'sys/health' ? health(query) : plain === 'sys/seal-status' ? sealStatus() : leader();
      if (method === 'HEAD') answer.body = undefined;
      return { answer, counterKey: `read ${plain}` };
    }
    if (!operation) return { answer: { status: 405, body: { errors: [] } }, counterKey: `${method} other` };

    // The namespace: the X-Vault-Namespace header, then any namespace the path starts with.
    let namespace = trimSlashes(String(req.headers['x-vault-namespace'] ?? ''));
    if (namespace && !namespaces.has(namespace)) return { answer: { status: 404, body: { errors: [`no handler for route "${rest}". route entry not found.`] } }, counterKey: `${operation} other` };
    for (;;) {
      const child = [...namespaces].filter((ns) => (namespace ? ns.startsWith(`${namespace}/`) : true)).map((ns) => (namespace ? ns.slice(namespace.length + 1) : ns)).filter((rel) => rest.startsWith(`${rel}/`)).sort((a, b) => b.length - a.length)[0];
      if (!child) break;
      namespace = namespace ? `${namespace}/${child}` : child;
      rest = rest.slice(child.length + 1);
    }
    const fullPath = namespace ? `${namespace}/${rest}` : rest;
    // Refused before routing: recorded with the path as sent.
    const early = { time: rfc3339(now()), method, namespace, path: rest, operation };

    // Sealed, then standby, then rate limit quotas: answered before any authentication, as Vault does.
    if (settings.sealed || !settings.initialized) return { answer: { status: 503, body: { errors: ['Vault is sealed'] } }, counterKey: `${operation} sealed`, record: early };
    if (settings.standby) {
      if (settings.activeAddress) return { answer: { status: 307, headers: { location: `${settings.activeAddress.replace(/\/+$/, '')}${req.url ?? ''}` } }, counterKey: `${operation} standby`, record: early };
      return { answer: { status: 500, body: { errors: ['local node not active but active cluster node not found'] } }, counterKey: `${operation} standby`, record: early };
    }
    const quota = rateLimits.filter((q) => fullPath.startsWith(q.quota.path)).sort((a, b) => b.quota.path.length - a.quota.path.length)[0];
    if (quota && !quota.bucket.take(performance.now())) {
      const retryAfter = Math.max(1, Math.ceil(quota.quota.interval));
      return {
        answer: {
          status: 429,
          body: { errors: [`request path "${fullPath}": rate limit quota exceeded`] },
          headers: { 'retry-after': String(retryAfter), 'x-ratelimit-limit': String(quota.quota.rate), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(retryAfter) },
        },
        counterKey: `${operation} throttled`,
        record: early,
      };
    }

    let body: Record<string, unknown> = {};
    if ((method === 'POST' || method === 'PUT') && raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch (error) {
        return { answer: { status: 400, body: { errors: [`failed to parse JSON input: ${(error as Error).message}`] } }, counterKey: `${operation} other` };
      }
    }

    // Route: the mount (or auth / sys endpoint) and what it needs.
    const route = routeOf(namespace, rest, operation);
    // A LIST's path ends in "/", as Vault makes it before checking policies and auditing.
    if (route.operation === 'list' && !rest.endsWith('/')) rest += '/';
    const ctx = { namespace, rest, fullPath, operation: route.operation, method, body, query, remote: req.socket.remoteAddress ?? '127.0.0.1', remotePort: req.socket.remotePort ?? 0 };
    const recordBase = { time: rfc3339(now()), method, namespace, path: rest, operation: route.operation };

    // Who asks.
    let token: Token | null = null;
    let answer: Answer;
    const requestId = randomUUID();
    try {
      if (route.kind !== 'login') {
        const header = String(req.headers['x-vault-token'] ?? '') || String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
        const t = header ? tokens.get(header) : undefined;
        if (!t || !tokenLive(t) || !(t.namespace === '' || namespace === t.namespace || namespace.startsWith(`${t.namespace}/`))) {
          auditRequest(requestId, ctx, route, t && tokenLive(t) ? t : null, header, PERMISSION_DENIED);
          throw new VaultError(403, [PERMISSION_DENIED]);
        }
        token = t;
        // The path as the token's policies name it: relative to the token's namespace.
        const aclPath = (t.namespace ? fullPath.slice(t.namespace.length + 1) : fullPath).replace(/\/+$/, '') + (route.operation === 'list' ? '/' : '');
        if (route.kind !== 'self' && route.kind !== 'ui-mount' && !aclOf(t).allows(aclPath, route.operation)) {
          auditRequest(requestId, ctx, route, t, header, ACL_DENIED);
          throw new VaultError(403, [ACL_DENIED]);
        }
        // sys/internal/ui/mounts/<mount> answers a token that may do anything under the mount.
        const mountPrefix = `${namespace ? `${namespace}/` : ''}${route.mount?.path ?? ''}/`.slice(t.namespace ? t.namespace.length + 1 : 0);
        if (route.kind === 'ui-mount' && route.mount && !aclOf(t).anyAccessUnder(mountPrefix)) {
          auditRequest(requestId, ctx, route, t, header, ACL_DENIED);
          throw new VaultError(403, [ACL_DENIED]);
        }
      }
      auditRequest(requestId, ctx, route, token, token?.id ?? '', null);
      answer = route.run(token, body, query);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      answer = { status: error.status, body: errorBody(error) };
      if (route.kind === 'login' || token) auditResponse(requestId, ctx, route, token, answer, error.errors.join('; ') || (error.status === 404 ? '' : `HTTP ${error.status}`));
      return { answer, counterKey: route.counterKey, record: recordBase };
    }
    auditResponse(requestId, ctx, route, token, answer, null);
    return { answer, counterKey: route.counterKey, record: recordBase };
  };

  interface Route {
    kind: 'kv' | 'login' | 'self' | 'sys' | 'ui-mount' | 'none';
    operation: VaultOperation;
    counterKey: string;
    mountType: string;
    mountPoint: string;
    mount?: Mount;
    run(token: Token | null, body: Record<string, unknown>, query: URLSearchParams): Answer;
  }

  function routeOf(namespace: string, rest: string, operation: VaultOperation): Route {
    const label = (p: string) => (namespace ? `${namespace}/${p}` : p);
    const simple = (kind: Route['kind'], path: string, mountType: string, mountPoint: string, run: Route['run'], op = operation): Route => ({ kind, operation: op, counterKey: `${op} ${label(path)}`, mountType, mountPoint, run });
    const plain = rest.replace(/\/+$/, '');
    if (plain === 'auth/approle/login' && operation === 'update')
      return simple('login', plain, 'approle', 'auth/approle/', (_t, body) => ({ status: 200, body: envelope(null, { auth: authBlock(approleLogin(body, namespace)) }) }));
    if (plain === 'auth/kubernetes/login' && operation === 'update')
      return simple('login', plain, 'kubernetes', 'auth/kubernetes/', (_t, body) => ({ status: 200, body: envelope(null, { auth: authBlock(kubernetesLogin(body, namespace)) }) }));
    if (plain === 'auth/token/lookup-self' && (operation === 'read' || operation === 'update')) return simple('self', plain, 'token', 'auth/token/', (t) => ({ status: 200, body: envelope(lookupSelf(t!)) }), 'read');
    if (plain === 'auth/token/renew-self' && operation === 'update') return simple('self', plain, 'token', 'auth/token/', (t, body) => renewSelf(t!, body));
    if (plain === 'auth/token/revoke-self' && operation === 'update')
      return simple('self', plain, 'token', 'auth/token/', (t) => {
        tokens.delete(t!.id);
        return { status: 204 };
      });
    if (plain === 'sys/capabilities-self' && operation === 'update')
      return simple('self', plain, 'system', 'sys/', (t, body) => {
        const paths = Array.isArray(body.paths) ? body.paths.map(String) : typeof body.path === 'string' ? [body.path] : [];
        const acl = aclOf(t!);
        const data: Record<string, unknown> = { capabilities: paths.length === 1 ? acl.capabilities(paths[0]!) : [] };
        for (const p of paths) data[p] = acl.capabilities(p);
        return { status: 200, body: envelope(data) };
      });
    if (plain === 'sys/mounts' && operation === 'read')
      return simple('sys', plain, 'system', 'sys/', () => {
        const data: Record<string, unknown> = {
          'cubbyhole/': { type: 'cubbyhole', description: 'per-token private secret storage', options: null, local: true, seal_wrap: false },
          'identity/': { type: 'identity', description: 'identity store', options: null, local: false, seal_wrap: false },
          'sys/': { type: 'system', description: 'system endpoints used for control, policy and debugging', options: null, local: false, seal_wrap: true },
        };
        for (const m of mounts.values()) if (m.namespace === namespace) data[`${m.path}/`] = mountDescription(m);
        return { status: 200, body: { ...data, ...envelope(data) } };
      });
    if (plain.startsWith('sys/audit-hash/') && operation === 'update')
      return simple('sys', 'sys/audit-hash', 'system', 'sys/', (_t, body) => {
        if (!audit) throw badRequest(`unknown audit backend ${plain.slice('sys/audit-hash/'.length)}`);
        if (typeof body.input !== 'string') throw badRequest('the "input" parameter is required');
        return { status: 200, body: envelope({ hash: audit.hash(body.input) }) };
      });
    if (plain.startsWith('sys/internal/ui/mounts/') && operation === 'read') {
      const wanted = plain.slice('sys/internal/ui/mounts/'.length);
      const m = findMount(namespace, wanted);
      const r = simple('ui-mount', 'sys/internal/ui/mounts', 'system', 'sys/', () => {
        if (!m) throw new VaultError(403, [ACL_DENIED]);
        return { status: 200, body: envelope({ ...mountDescription(m), path: `${m.path}/` }) };
      });
      r.mount = m ?? undefined;
      return r;
    }
    const m = findMount(namespace, rest);
    if (!m) return simple('none', 'no-mount', '', '', () => { throw new VaultError(404, [`no handler for route "${rest}". route entry not found.`]); });
    const sub = rest.slice(m.path.length + 1);
    if (m.store.version === 1) {
      const key = sub.replace(/\/+$/, '');
      const op = operation === 'update' && !m.store.has(key) ? 'create' : operation;
      return { kind: 'kv', operation: op, counterKey: `${op} ${label(m.path)}`, mountType: 'kv', mountPoint: `${m.path}/`, mount: m, run: (_t, body) => kvV1(m.store, key, op, body) };
    }
    const slash = sub.indexOf('/');
    const kind = slash < 0 ? sub : sub.slice(0, slash);
    const key = slash < 0 ? '' : sub.slice(slash + 1).replace(/\/+$/, '');
    // Writes to data/ and metadata/ are "create" when the key does not exist (their existence check), else "update".
    const op = operation === 'update' && (kind === 'data' || kind === 'metadata') && !m.store.has(key) ? 'create' : operation;
    return { kind: 'kv', operation: op, counterKey: `${op} ${label(m.path)}/${kind}`, mountType: 'kv', mountPoint: `${m.path}/`, mount: m, run: (_t, body, query) => kvV2(m.store, kind, key, op, query, body) };
  }

  function findMount(namespace: string, rest: string): Mount | null {
    let best: Mount | null = null;
    for (const m of mounts.values()) if (m.namespace === namespace && (rest === m.path || rest.startsWith(`${m.path}/`)) && (!best || m.path.length > best.path.length)) best = m;
    return best;
  }

  // ---- the audit device ----------------------------------------------------------------------------

  type Ctx = { namespace: string; rest: string; fullPath: string; operation: VaultOperation; method: string; body: Record<string, unknown>; query: URLSearchParams; remote: string; remotePort: number };
  const auditAuth = (a: VaultAuditFile, t: Token | null) =>
    t
      ? {
          client_token: a.token(t.id),
          accessor: a.token(t.accessor),
          display_name: t.displayName,
          policies: t.policies,
          token_policies: t.policies,
          metadata: t.meta,
          entity_id: t.entityId,
          token_type: 'service',
          token_ttl: t.ttl,
          token_issue_time: rfc3339(t.issued),
        }
      : { token_type: 'default' };
  const auditRequestBlock = (a: VaultAuditFile, id: string, ctx: Ctx, route: Route, t: Token | null, presented: string) => ({
    id,
    client_id: t?.entityId ?? '',
    operation: ctx.operation,
    mount_point: route.mountPoint,
    mount_type: route.mountType,
    mount_accessor: route.mount?.accessor ?? '',
    mount_class: route.kind === 'kv' ? 'secret' : route.mountType === 'system' ? '' : 'auth',
    client_token: a.token(t?.id ?? presented),
    client_token_accessor: a.token(t?.accessor),
    namespace: ctx.namespace ? { id: createHash('sha256').update(ctx.namespace).digest('base64url').slice(0, 5), path: `${ctx.namespace}/` } : { id: 'root' },
    path: ctx.rest,
    ...(Object.keys(ctx.body).length > 0 ? { data: a.hashStrings(ctx.body) } : {}),
    ...(ctx.query.has('version') ? { data: { version: a.hashStrings(ctx.query.get('version')) } } : {}),
    remote_address: ctx.remote.replace(/^::ffff:/, ''),
    remote_port: ctx.remotePort,
  });
  function auditRequest(id: string, ctx: Ctx, route: Route, t: Token | null, presented: string, error: string | null): void {
    if (!audit) return;
    audit.write({ time: new Date(now()).toISOString(), type: 'request', auth: auditAuth(audit, t), request: auditRequestBlock(audit, id, ctx, route, t, presented), ...(error ? { error } : {}) });
  }
  function auditResponse(id: string, ctx: Ctx, route: Route, t: Token | null, answer: Answer, error: string | null): void {
    if (!audit) return;
    const a = audit;
    const body = (answer.body ?? {}) as { data?: unknown; auth?: { client_token: string; accessor: string } | null };
    const issued = body.auth ? tokens.get(body.auth.client_token) ?? null : null;
    const response: Record<string, unknown> = { mount_point: route.mountPoint, mount_type: route.mountType, mount_accessor: route.mount?.accessor ?? '' };
    if (issued) response.auth = { ...auditAuth(a, issued), token_ttl: ttlLeft(issued) };
    if (body.data !== undefined && body.data !== null && answer.status < 400) response.data = a.hashStrings(body.data);
    if (answer.status === 404 && body.data) response.data = a.hashStrings(body.data);
    a.write({
      time: new Date(now()).toISOString(),
      type: 'response',
      auth: auditAuth(a, route.kind === 'login' ? issued : t),
      request: auditRequestBlock(a, id, ctx, route, route.kind === 'login' ? null : t, t?.id ?? ''),
      response,
      ...(error ? { error } : {}),
    });
  }

  // ---- serving -------------------------------------------------------------------------------------

  const pending = new Set<NodeJS.Timeout>();
  const send = (res: ServerResponse, answer: Answer) => {
    if (res.destroyed) return;
    const payload = answer.body === undefined || answer.status === 204 ? null : Buffer.from(JSON.stringify(answer.body), 'utf8');
    res.writeHead(answer.status, {
      'cache-control': 'no-store',
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : { 'content-length': '0' }),
      ...answer.headers,
    });
    res.end(payload ?? undefined);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const at = performance.now();
    let decided: ReturnType<typeof decide>;
    try {
      decided = decide(req, raw);
    } catch (error) {
      decided = { answer: { status: 500, body: { errors: [`simulator: ${(error as Error).message}`] } }, counterKey: 'error' };
    }
    const { answer, counterKey, record } = decided;
    const c = counters.arrive(counterKey, at);
    if (answer.status === 429) c.throttled++;
    else if (answer.status >= 400) {
      c.errors++;
      c.errorTypes[String(answer.status)] = (c.errorTypes[String(answer.status)] ?? 0) + 1;
    } else {
      c.ok++;
      c.accepted.add(at);
    }
    c.computeMs += performance.now() - at;
    if (record && recordLimit > 0) {
      recorded.push({ ...record, status: answer.status });
      if (recorded.length > recordLimit * 2) recorded = recorded.slice(-recordLimit);
    }
    afterLatency(settings.latencyMs, pending, () => send(res, answer));
  };

  const control = (cmd: VaultControlCommand) => {
    const c = controlCommand.parse(cmd);
    if (c.sealed !== undefined) settings.sealed = c.sealed;
    if (c.initialized !== undefined) settings.initialized = c.initialized;
    if (c.standby !== undefined) settings.standby = c.standby;
    if (c.activeAddress !== undefined) settings.activeAddress = c.activeAddress;
    if (c.latencyMs !== undefined) settings.latencyMs = c.latencyMs;
    if (c.rateLimits) setRateLimits(c.rateLimits);
    if (c.advanceClockMs) clockOffset += c.advanceClockMs;
    for (const p of c.policies ?? []) policies.set(p.name, p);
    for (const r of c.approles ?? []) approles.set(r.roleId, r);
    for (const r of c.kubernetesRoles ?? []) kubernetesRoles.set(r.name, r);
    for (const s of c.serviceAccounts ?? []) serviceAccounts.set(s.jwt, s);
    for (const m of c.mounts ?? []) addMount(m);
    for (const id of c.revokeTokens ?? []) tokens.delete(id);
    for (const id of c.expireTokens ?? []) {
      const t = tokens.get(id);
      if (!t) throw new Error(`no token ${id}`);
      t.expires = now() - 1;
    }
    const created = (c.tokens ?? []).map((t) => issueToken(t)).map((t) => ({ client_token: t.id, accessor: t.accessor }));
    for (const w of c.writeSecrets ?? []) {
      const m = mounts.get(mountKey(trimSlashes(w.namespace), w.mount));
      if (!m) throw new Error(`no mount ${w.mount}`);
      if (m.store.version === 2) m.store.write(w.path, w.data, undefined, now());
      else m.store.writeV1(w.path, w.data);
    }
    let rotated: string | undefined;
    if (c.audit !== undefined) {
      audit?.close();
      audit = c.audit ? new VaultAuditFile(c.audit) : null;
    }
    if (c.rotateAudit) {
      if (!audit) throw new Error('no audit device to rotate');
      rotated = audit.rotate(new Date(now()));
    }
    if (c.resetStats) {
      counters.reset();
      recorded = [];
    }
    return { tokens: created, ...(rotated ? { rotated } : {}) };
  };

  const self: SimulatedVaultHandler & Controllable<VaultControlCommand> = {
    handle,
    handleControl: (req, res, path, raw) => {
      if (req.method === 'GET' && path === '/__requests') {
        sendJson(res, 200, { requests: self.requests() });
        return true;
      }
      return answerControl(req, res, path, raw, self);
    },
    health: () => ({ sealed: settings.sealed, standby: settings.standby, initialized: settings.initialized, mounts: [...mounts.keys()], audit: audit?.path ?? null }),
    stats: () => ({
      ...counters.stats(),
      latencyMs: settings.latencyMs,
      sealed: settings.sealed,
      standby: settings.standby,
      initialized: settings.initialized,
      secrets: Object.fromEntries([...mounts].map(([k, m]) => [k, m.store.size])),
      auditLines: audit?.lines ?? 0,
    }),
    resetStats: () => {
      counters.reset();
      recorded = [];
    },
    requests: () => recorded.slice(-recordLimit),
    auditHash: (value) => audit?.hash(value) ?? null,
    store: (mount, namespace = '') => {
      const m = mounts.get(mountKey(trimSlashes(namespace), mount));
      if (!m) throw new Error(`no mount ${mount}`);
      return m.store;
    },
    rootToken: rootToken.id,
    control,
    close: () => {
      cancelAll(pending);
      audit?.close();
      audit = null;
    },
  };
  return self;
}

/** A simulated Vault on a loopback server of its own: the API under /v1, the control endpoints under /__. */
export async function startSimulatedVault(options: SimulatedVaultOptions = {}): Promise<SimulatedVault> {
  const host = options.host ?? '127.0.0.1';
  const inner = await serveAlone(createSimulatedVault(options), 0, host);
  // The relay in front lets Vault's LIST method through (see list-method.ts).
  let relay: Awaited<ReturnType<typeof listMethodRelay>>;
  try {
    relay = await listMethodRelay(inner.port, options.port ?? 0, host);
  } catch (error) {
    await inner.close();
    throw error;
  }
  return {
    ...inner,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${relay.port}`,
    port: relay.port,
    close: async () => {
      await relay.close();
      await inner.close();
    },
  };
}
