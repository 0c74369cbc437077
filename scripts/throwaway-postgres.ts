// A throwaway PostgreSQL cluster for tests and benchmarks: Debian's postgresql package (installed
// with apt-get when missing), initdb in a temporary folder, a free port on 127.0.0.1, password
// authentication over TCP (so a wrong password is refused as in production), removed by stop().
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export const THROWAWAY_PASSWORD = 'throwaway-test-password';

export interface ThrowawayPostgres {
  /** postgres://postgres:…@127.0.0.1:PORT/postgres (superuser). */
  adminUrl: string;
  host: string;
  port: number;
  stop(): void;
}

function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : null;
}

function installPostgres(): void {
  if (process.getuid?.() !== 0) throw new Error("PostgreSQL is not installed: run 'sudo apt-get install -y postgresql' (tests need its initdb).");
  console.log('Installing PostgreSQL for the tests (apt-get)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'postgresql'], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the package's postgres user. */
function runAsOwner(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8' })
    : spawnSync(bin, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${path.basename(bin)} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  let bin = postgresBinDir();
  if (!bin) {
    installPostgres();
    bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL was installed but no initdb was found under /usr/lib/postgresql.');
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-pg-'));
  chmodSync(dir, 0o700);
  const dataDir = path.join(dir, 'data');
  const pwFile = path.join(dir, 'pw');
  writeFileSync(pwFile, THROWAWAY_PASSWORD + '\n');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwFile, uid, gid);
  }
  const port = await freePort();
  try {
    runAsOwner(path.join(bin, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth-host=scram-sha-256', '--auth-local=trust',
      '-E', 'UTF8', '--locale=C', '--no-sync',
    ]);
    runAsOwner(path.join(bin, 'pg_ctl'), [
      '-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start',
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`,
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    adminUrl: `postgres://postgres:${THROWAWAY_PASSWORD}@127.0.0.1:${port}/postgres`,
    host: '127.0.0.1',
    port,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        runAsOwner(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone; the folder goes all the same.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
