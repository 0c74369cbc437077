import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { appendAudit } from '@/lib/audit/audit-log';
import { extractContainer, hashFile, readContainerHeader, writeContainer, type BackupManifest } from '@/lib/backup/container';
import { closeKeyrings, getKeyring } from '@/lib/crypto/keyring';
import { EmbeddedStore } from '@/lib/stores/embedded/store';

// Shared by the backup tests: the command-line tools as an operator runs them, a deployment made by
// the app's own code, directory listings to prove nothing changed, and backups re-packed after an
// edit (with fresh checksums, as someone who can write the file could do).

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/<name>.ts as `npm run <name>` does, with `env` over a copy of this process's environment. */
export function runCli(
  script: 'backup' | 'restore' | 'audit-verify',
  args: string[],
  env: Record<string, string | undefined>,
  as?: { uid: number; gid: number },
): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', `scripts/${script}.ts`, ...args], {
      cwd: process.cwd(),
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...as,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Every file and folder under `dir` with its size and content hash: equal listings mean nothing changed. */
export function listing(dir: string): string[] {
  if (!existsSync(dir)) return ['(absent)'];
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const full = path.join(at, name);
      const stat = lstatSync(full);
      const rel = path.relative(dir, full);
      if (stat.isDirectory()) {
        out.push(`${rel}/`);
        walk(full);
      } else out.push(`${rel} ${stat.size} ${createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16)}`);
    }
  };
  walk(dir);
  return out;
}

export const valueOf = (name: string, version: number | string) => `value of ${name}#${version}`;
export const newMasterKey = () => randomBytes(32).toString('base64');

/** The master key settings a deployment runs with (unset ones are removed from the environment). */
export type KeySettings = Partial<Record<'MASTER_KEY' | 'MASTER_KEY_KMS_KEY_ID' | 'MASTER_KEY_KMS_REGION' | 'MASTER_KEY_KMS_ENDPOINT', string>>;
const KEY_SETTINGS = ['MASTER_KEY', 'MASTER_KEY_KMS_KEY_ID', 'MASTER_KEY_KMS_REGION', 'MASTER_KEY_KMS_ENDPOINT'] as const;

/**
 * A deployment made by the app's own code in `dataDir` (its keyring: the key file, MASTER_KEY or a
 * KMS-sealed key, as `keys` says): `items` items with `versions` versions each, and an audit entry
 * per write. DATA_DIR and the key settings are restored afterwards.
 */
export async function makeDeployment(dataDir: string, keys: KeySettings, items = 5, versions = 2): Promise<string[]> {
  const saved = Object.fromEntries(['DATA_DIR', ...KEY_SETTINGS].map((name) => [name, process.env[name]]));
  process.env.DATA_DIR = dataDir;
  for (const name of KEY_SETTINGS) {
    if (keys[name] === undefined) delete process.env[name];
    else process.env[name] = keys[name];
  }
  try {
    const store = await EmbeddedStore.fromOpened('local', 'Built-in', await getKeyring());
    const names = Array.from({ length: items }, (_, i) => `/prod/service-${i}/password`);
    for (let version = 1; version <= versions; version++) {
      for (const name of names) {
        await store.putValue({ name, value: valueOf(name, version), actor: 'alice@example.com' });
        await appendAudit({ actor: 'alice@example.com', action: 'rotate', target: `local:${name}`, outcome: 'success', details: { version } });
      }
    }
    return names;
  } finally {
    await closeKeyrings();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * Unpacks `file`, lets `edit` change the files (and the manifest), and packs it again as `out` with
 * fresh checksums: a backup that passes every checksum but whose content was altered.
 */
export function repackBackup(file: string, out: string, edit: (dir: string, manifest: BackupManifest) => BackupManifest | void): void {
  const opened = readContainerHeader(file);
  const dir = mkdtempSync(path.join(path.dirname(out), '.repack-'));
  try {
    extractContainer(file, opened, dir);
    const manifest = edit(dir, structuredClone(opened.manifest)) ?? structuredClone(opened.manifest);
    manifest.files = manifest.files.map((f) => ({ name: f.name, ...hashFile(path.join(dir, f.name)) }));
    writeContainer(out, manifest, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
