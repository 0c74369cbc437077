import { dataSetPaths, generatedEntry, type GeneratedSet } from './vault-data-set';

// One KV mount of the simulated Vault: its keys in a folder tree (for LIST), each key's versions and
// metadata (KV v2) or its one value (KV v1). Generated keys are held as a path only until first
// touched. Times are epoch ms; answers format them as RFC 3339 as Vault does.

export interface KvVersion {
  created: number;
  /** When the version was (or will be, with delete_version_after) soft-deleted; null = never. */
  deleted: number | null;
  destroyed: boolean;
  /** null once destroyed. */
  data: Record<string, unknown> | null;
}

export interface KvEntry {
  created: number;
  updated: number;
  current: number;
  /** Vault's oldest_version: 0 until versions were pruned by max_versions. */
  oldest: number;
  /** 0 = the mount's setting. */
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterMs: number;
  custom: Record<string, string> | null;
  versions: Map<number, KvVersion>;
}

/** An error answer as Vault sends it: a status and `errors`, or a whole body (a 404 that carries metadata). */
export class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly body?: Record<string, unknown>,
  ) {
    super(errors.join('; ') || `HTTP ${status}`);
  }
}

export const badRequest = (message: string) => new VaultError(400, [message]);
export const notFound = () => new VaultError(404, []);

export interface KvMountConfig {
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterMs: number;
}

/** Go's duration text, as Vault shows delete_version_after ("0s", "3h25m19s"). */
export function formatDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  if (s === 0) return '0s';
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** A duration as Vault takes it: Go duration text ("1h30m", "90s") or a number of seconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000;
  if (typeof value !== 'string') throw badRequest(`invalid duration ${JSON.stringify(value)}`);
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    consumed += m[0].length;
  }
  if (consumed !== value.length || value === '') throw badRequest(`time: invalid duration "${value}"`);
  return total;
}

export const rfc3339 = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString());

export class KvStore {
  readonly version: 1 | 2;
  readonly config: KvMountConfig;
  private readonly entries = new Map<string, KvEntry | undefined>();
  private readonly values = new Map<string, Record<string, unknown>>();
  /** Folder ('' or 'a/b/') → its children ('name' or 'sub/'). */
  private readonly folders = new Map<string, Set<string>>();
  private readonly seed: number;
  private readonly generatedAt: number;

  constructor(options: { version: 1 | 2; config?: Partial<KvMountConfig>; sets?: GeneratedSet[]; seed?: number; now: number; lazy?: boolean }) {
    this.version = options.version;
    this.config = { maxVersions: 10, casRequired: false, deleteVersionAfterMs: 0, ...options.config };
    this.seed = options.seed ?? 1;
    this.generatedAt = options.now;
    for (const set of options.sets ?? []) {
      const seed = set.seed ?? this.seed;
      for (const path of dataSetPaths(set)) {
        if (this.version === 2) {
          this.entries.set(path, options.lazy === false || seed !== this.seed ? generatedEntry(path, seed, this.generatedAt) : undefined);
        } else {
          const entry = generatedEntry(path, seed, this.generatedAt);
          this.values.set(path, entry.versions.get(entry.current)!.data ?? {});
        }
        this.index(path);
      }
    }
  }

  get size(): number {
    return this.version === 2 ? this.entries.size : this.values.size;
  }

  private index(path: string): void {
    const parts = path.split('/');
    let folder = '';
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const child = last ? parts[i]! : `${parts[i]!}/`;
      let set = this.folders.get(folder);
      if (!set) this.folders.set(folder, (set = new Set()));
      set.add(child);
      folder += child;
    }
  }

  private unindex(path: string): void {
    const parts = path.split('/');
    for (let i = parts.length - 1; i >= 0; i--) {
      const folder = parts.slice(0, i).map((p) => `${p}/`).join('');
      const child = i === parts.length - 1 ? parts[i]! : `${parts[i]!}/`;
      const set = this.folders.get(folder);
      if (!set) return;
      // A folder child stays while it still has children; a key stays while a key of that name exists.
      if (i < parts.length - 1 && this.folders.has(folder + child)) return;
      set.delete(child);
      if (set.size > 0) return;
      this.folders.delete(folder);
    }
  }

  /** LIST: the children of a folder ('' or ending in '/'), folders ending in '/', sorted; null when there are none. */
  list(folder: string): string[] | null {
    const set = this.folders.get(folder === '/' ? '' : folder);
    return set && set.size > 0 ? [...set].sort() : null;
  }

  /** KV v2: a key's entry (made on first touch for a generated one), or undefined. */
  entry(path: string): KvEntry | undefined {
    if (!this.entries.has(path)) return undefined;
    let e = this.entries.get(path);
    if (!e) this.entries.set(path, (e = generatedEntry(path, this.seed, this.generatedAt)));
    return e;
  }

  has(path: string): boolean {
    return this.version === 2 ? this.entries.has(path) : this.values.has(path);
  }

  maxVersionsOf(e: KvEntry): number {
    return e.maxVersions > 0 ? e.maxVersions : this.config.maxVersions > 0 ? this.config.maxVersions : 10;
  }

  /** Writes a new version (CAS as Vault checks it); the version's metadata. */
  write(path: string, data: Record<string, unknown>, cas: number | undefined, now: number): { version: number; created: number; deleted: number | null } {
    const existing = this.entry(path);
    const casRequired = this.config.casRequired || (existing?.casRequired ?? false);
    if (cas === undefined && casRequired) throw badRequest('check-and-set parameter required for this call');
    if (cas !== undefined && cas !== (existing?.current ?? 0)) throw badRequest('check-and-set parameter did not match the current version');
    const e: KvEntry = existing ?? { created: now, updated: now, current: 0, oldest: 0, maxVersions: 0, casRequired: false, deleteVersionAfterMs: 0, custom: null, versions: new Map() };
    if (!existing) {
      this.entries.set(path, e);
      this.index(path);
    }
    const version = e.current + 1;
    const after = e.deleteVersionAfterMs || this.config.deleteVersionAfterMs;
    const v: KvVersion = { created: now, deleted: after > 0 ? now + after : null, destroyed: false, data };
    e.versions.set(version, v);
    e.current = version;
    e.updated = now;
    // Versions beyond max_versions are removed, oldest first.
    const keep = this.maxVersionsOf(e);
    for (const n of [...e.versions.keys()].sort((a, b) => a - b)) {
      if (e.versions.size <= keep) break;
      e.versions.delete(n);
      e.oldest = Math.min(...e.versions.keys());
    }
    return { version, created: v.created, deleted: v.deleted };
  }

  /** Writes a key's metadata (creating a key with no versions when there is none). */
  writeMetadata(path: string, body: Record<string, unknown>, now: number): void {
    let e = this.entry(path);
    if (!e) {
      e = { created: now, updated: now, current: 0, oldest: 0, maxVersions: 0, casRequired: false, deleteVersionAfterMs: 0, custom: null, versions: new Map() };
      this.entries.set(path, e);
      this.index(path);
    }
    if (body.max_versions !== undefined) {
      if (typeof body.max_versions !== 'number' || !Number.isInteger(body.max_versions) || body.max_versions < 0) throw badRequest('max_versions must be a non-negative integer');
      e.maxVersions = body.max_versions;
    }
    if (body.cas_required !== undefined) e.casRequired = body.cas_required === true || body.cas_required === 'true';
    if (body.delete_version_after !== undefined) e.deleteVersionAfterMs = parseDuration(body.delete_version_after);
    if (body.custom_metadata !== undefined) {
      const custom = body.custom_metadata;
      if (custom !== null && (typeof custom !== 'object' || Array.isArray(custom) || Object.values(custom).some((v) => typeof v !== 'string')))
        throw badRequest('custom_metadata must be a map of strings');
      if (custom && Object.keys(custom).length > 64) throw badRequest('custom_metadata: the number of entries must not exceed 64');
      e.custom = custom as Record<string, string> | null;
    }
    e.updated = now;
  }

  deleteKey(path: string): void {
    if (this.version === 2 ? this.entries.delete(path) : this.values.delete(path)) this.unindex(path);
  }

  /** KV v1. */
  readV1(path: string): Record<string, unknown> | undefined {
    return this.values.get(path);
  }

  writeV1(path: string, data: Record<string, unknown>): void {
    if (!this.values.has(path)) this.index(path);
    this.values.set(path, data);
  }

  /** Every key's path (tests and the control API). */
  paths(): string[] {
    return [...(this.version === 2 ? this.entries.keys() : this.values.keys())].sort();
  }
}
