import { createHmac, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

// Vault's file audit device: one JSON object a line for every request and every response, written
// before the answer leaves. As Vault does by default, every string value in request and response
// data, the client token and its accessor, and the tokens an auth response hands out are HMAC'd with
// the device's salt (`hmac-sha256:<hex>`), so the file proves what was touched without holding a
// secret. `sys/audit-hash/<device>` (and `hash()` here) computes the same HMAC for a known input.
//
// Rotation is what logrotate does to Vault's file (Vault reopens it on SIGHUP): the current file is
// renamed to `<name>-<UTC stamp>[-n]<ext>` in the same folder and a new one is started, so the folder
// holds the rotated files and the current one.

export const HMAC_PREFIX = 'hmac-sha256:';

export interface AuditFileOptions {
  /** The file Vault writes (`file_path`); its folder is created. */
  path: string;
  /** The device's salt (default a random UUID, as Vault makes one per device). */
  salt?: string;
  /** Raw (unhashed) values, as `log_raw=true` (never for the demo). */
  logRaw?: boolean;
}

export class VaultAuditFile {
  readonly path: string;
  private readonly salt: string;
  private readonly logRaw: boolean;
  private fd: number;
  lines = 0;
  readonly rotated: string[] = [];

  constructor(options: AuditFileOptions) {
    this.path = options.path;
    this.salt = options.salt ?? randomUUID();
    this.logRaw = options.logRaw ?? false;
    mkdirSync(dirname(this.path), { recursive: true });
    this.fd = openSync(this.path, 'a');
  }

  /** What Vault writes for a value: `hmac-sha256:` and the hex HMAC-SHA256 of the value keyed by the salt. */
  hash(value: string): string {
    return `${HMAC_PREFIX}${createHmac('sha256', this.salt).update(value).digest('hex')}`;
  }

  /** A value with every string inside it HMAC'd (numbers, booleans and null kept, as Vault keeps them). */
  hashStrings(value: unknown): unknown {
    if (this.logRaw) return value;
    if (typeof value === 'string') return this.hash(value);
    if (Array.isArray(value)) return value.map((v) => this.hashStrings(v));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.hashStrings(v)]));
    return value;
  }

  /** A token or accessor as the file shows it (empty stays empty). */
  token(value: string | undefined): string {
    if (!value) return '';
    return this.logRaw ? value : this.hash(value);
  }

  write(entry: Record<string, unknown>): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    this.lines++;
  }

  /** Renames the current file into the folder of rotated files and starts a new one; the rotated file's path. */
  rotate(at = new Date()): string {
    closeSync(this.fd);
    const ext = extname(this.path);
    const stem = basename(this.path, ext);
    const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
    let target = join(dirname(this.path), `${stem}-${stamp}${ext}`);
    for (let n = 1; existsSync(target); n++) target = join(dirname(this.path), `${stem}-${stamp}-${n}${ext}`);
    renameSync(this.path, target);
    this.rotated.push(target);
    this.fd = openSync(this.path, 'a');
    return target;
  }

  close(): void {
    closeSync(this.fd);
  }
}
