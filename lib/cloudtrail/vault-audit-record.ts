import { createHash } from 'node:crypto';
import type { CloudTrailRecord } from './types';

// One line of Vault's file audit device (JSON: `type` request or response, `auth`, `request`,
// `response`, `error`; see https://developer.hashicorp.com/vault/docs/audit) as the event index
// keeps it: a CloudTrail-shaped record with only what the mapping and the timeline need. Nothing of
// a request's or response's data is copied (Vault HMACs the values there, but an HMAC still proves
// a value and the salt may be known): no tokens, no HMACs, no bodies; the accessor only as a short
// fingerprint of its HMAC, to tell tokens without an entity apart.
//
// A call gives a request line and (unless the token was refused outright) a response line with the
// same request.id. The response line is the event (it knows the outcome); a request line is one only
// when it carries an error (denied before running: the response line, if any, is the same event and
// is stored once, by its id). Lines outside the store's namespace and mount are not kept.

export const VAULT_EVENT_SOURCE = 'vault.kv';

/** The Vault store an audit source maps to (lib/cloudtrail/sources-config.ts VaultFileSourceConfig). */
export interface VaultAuditTarget {
  storeId: string;
  mount: string;
  /** '' for the root namespace, else e.g. "admin/team-a". */
  namespace: string;
}

/** What the index keeps of a Vault call, under requestParameters (read by event-mapping.ts). */
export interface VaultRequestParameters {
  store: string;
  /** Vault's operation: read, list, create, update, patch, delete. */
  operation: string;
  /** The path under the mount: data/app/db, metadata/app/, delete/app/db, config... */
  path: string;
  /** The version a read asked for (?version=), as the response names it. */
  version?: number;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const count = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null);

/** KV v2 endpoints under a mount, by operation: the event name (Vault's API docs' titles, PascalCase). */
const EVENT_NAMES: Record<string, Record<string, string>> = {
  data: { read: 'ReadSecretVersion', create: 'CreateSecret', update: 'UpdateSecret', patch: 'PatchSecret', delete: 'DeleteLatestSecretVersion' },
  metadata: { read: 'ReadSecretMetadata', list: 'ListSecrets', create: 'CreateSecretMetadata', update: 'UpdateSecretMetadata', patch: 'PatchSecretMetadata', delete: 'DeleteSecretMetadata' },
  subkeys: { read: 'ReadSecretSubkeys' },
  delete: { create: 'DeleteSecretVersions', update: 'DeleteSecretVersions' },
  undelete: { create: 'UndeleteSecretVersions', update: 'UndeleteSecretVersions' },
  destroy: { create: 'DestroySecretVersions', update: 'DestroySecretVersions' },
  config: { read: 'ReadKvConfig', create: 'UpdateKvConfig', update: 'UpdateKvConfig' },
};

/** The event name of an operation on a path under the mount ('data/app/db'); Vault-style for anything else. */
export function vaultEventName(operation: string, path: string): string {
  const kind = path.split('/')[0] ?? '';
  const named = EVENT_NAMES[kind]?.[operation];
  if (named) return named;
  const word = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/[^A-Za-z0-9]/g, '');
  return `${word(operation) || 'Call'}${word(kind) || 'Mount'}`.slice(0, 128);
}

/** Vault's error text ("1 error occurred:\n\t* permission denied\n\n") as a short code. */
export function vaultErrorCode(error: string): string {
  const message = vaultErrorMessage(error).toLowerCase();
  if (message.includes('permission denied')) return 'PermissionDenied';
  if (message.includes('check-and-set')) return 'CheckAndSetMismatch';
  if (message.includes('sealed')) return 'VaultSealed';
  if (message.includes('unsupported path') || message.includes('no handler for route')) return 'UnsupportedPath';
  if (message.includes('rate limit')) return 'RateLimitExceeded';
  if (message.includes('invalid') || message.includes('missing')) return 'InvalidRequest';
  return 'VaultError';
}

/** The messages of Vault's multierror text, joined; at most 300 characters. */
export function vaultErrorMessage(error: string): string {
  const items = [...error.matchAll(/^\t\* (.+)$/gm)].map((m) => m[1]!.trim());
  const message = (items.length > 0 ? items.join('; ') : error.trim()).replace(/\s+/g, ' ');
  return message.length > 300 ? `${message.slice(0, 299)}…` : message;
}

/** The accessor's HMAC as a short fingerprint (never the HMAC itself). */
export function accessorFingerprint(hmac: string): string {
  return createHash('sha256').update(hmac).digest('hex').slice(0, 12);
}

/** Who made the call, as the timeline names them: the display name, and the role it logged in as when the name does not say it. */
function actorOf(auth: Json): string | null {
  const display = text(auth.display_name);
  if (!display) return null;
  const meta = asObject(auth.metadata);
  const role = text(meta.role_name) ?? text(meta.role);
  return role && !display.includes(role) ? `${display}/${role}` : display;
}

/** One line parsed: null when it is not a JSON object (a partial or foreign line). */
export function parseVaultAuditLine(line: string): Json | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : null;
  } catch {
    return null;
  }
}

/**
 * The record the index keeps for one audit line, or null when the line is not an event of the
 * target store (another namespace or mount, a login, a request line that a response line follows).
 */
export function vaultAuditRecord(line: Json, target: VaultAuditTarget): CloudTrailRecord | null {
  const type = line.type;
  if (type !== 'request' && type !== 'response') return null;
  const error = text(line.error);
  // A request line without an error is followed by its response line, which is the event.
  if (type === 'request' && !error) return null;
  const request = asObject(line.request);
  const id = text(request.id);
  const operation = text(request.operation);
  const fullPath = text(request.path);
  if (!id || !operation || !fullPath) return null;
  const namespace = (text(asObject(request.namespace).path) ?? '').replace(/\/+$/, '');
  if (namespace !== target.namespace) return null;
  if (!fullPath.startsWith(`${target.mount}/`)) return null;
  const path = fullPath.slice(target.mount.length + 1);

  const auth = asObject(line.auth);
  const params: VaultRequestParameters = { store: target.storeId, operation, path };
  // The version a read named: the request's is HMAC'd, the response's metadata says which it was.
  if (operation === 'read' && path.startsWith('data/') && asObject(request.data).version !== undefined) {
    const version = count(asObject(asObject(asObject(line.response).data).metadata).version);
    if (version !== null) params.version = version;
  }
  const actor = actorOf(auth);
  const accessor = text(auth.accessor) ?? text(request.client_token_accessor);
  const policies = Array.isArray(auth.policies) ? auth.policies.filter((p): p is string => typeof p === 'string').slice(0, 50) : [];
  const eventName = vaultEventName(operation, path);
  return {
    eventVersion: 'vault-audit-1',
    // Per store: two stores on one mount (pathPrefixes) each keep the call as an event of their own.
    eventID: `vault-${target.storeId}-${id}`,
    eventTime: text(line.time) ?? undefined,
    eventSource: VAULT_EVENT_SOURCE,
    eventName,
    readOnly: operation === 'read' || operation === 'list',
    sourceIPAddress: text(request.remote_address) ?? undefined,
    ...(error ? { errorCode: vaultErrorCode(error), errorMessage: vaultErrorMessage(error) } : {}),
    userIdentity: {
      type: 'VaultToken',
      ...(actor ? { arn: actor } : {}),
      ...(text(auth.entity_id) ? { principalId: text(auth.entity_id)! } : {}),
      ...(text(auth.display_name) ? { displayName: text(auth.display_name)! } : {}),
      ...(policies.length > 0 ? { policies } : {}),
      ...(text(auth.token_type) ? { tokenType: text(auth.token_type)! } : {}),
      ...(accessor ? { accessorFingerprint: accessorFingerprint(accessor) } : {}),
    },
    requestParameters: { ...params },
  };
}
