import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, rmSync, statfsSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

// The suites' temporary folders (DATA_DIR, SQLite files, key files, the throwaway PostgreSQL) in memory
// where the machine has a tmpfs: SQLite and the key store fsync every commit, about 10 ms each on this
// machine's disk, and a worker waiting on the disk leaves its core idle. Nothing here measures
// durability across a power loss (a killed process sees the same files on either). TMPDIR set by the
// caller wins. The folder goes when the run ends, with whatever a suite left in it.

const RAM_DISK = '/dev/shm';
// What the suites write at most at once (the million-entry audit logs, a PostgreSQL cluster, SQLite
// files of several workers) with room to spare: a container's default /dev/shm (64 MB) is left alone.
const RAM_DISK_NEEDED_BYTES = 4 * 2 ** 30;
// Every project of vitest.config.mts runs this set-up: the first makes the folder, the last teardown removes it.
const shared = globalThis as { __ramTempDir?: { dir: string; projects: number } };

export default function setup(): (() => void) | undefined {
  if (!shared.__ramTempDir) {
    if (process.env.TMPDIR || process.platform !== 'linux') return undefined;
    try {
      accessSync(RAM_DISK, constants.W_OK);
      const { bavail, bsize } = statfsSync(RAM_DISK);
      if (bavail * bsize < RAM_DISK_NEEDED_BYTES) return undefined;
    } catch {
      return undefined;
    }
    shared.__ramTempDir = { dir: mkdtempSync(path.join(RAM_DISK, 'secrets-dashboard-tests-')), projects: 0 };
    // As /tmp is: the throwaway PostgreSQL runs as the postgres user inside it.
    chmodSync(shared.__ramTempDir.dir, 0o1777);
    // tsx keeps its compile cache in os.tmpdir(): the CLIs the suites spawn keep using the one on disk,
    // warm from earlier runs, instead of compiling every script again in each run's new folder.
    const tsxCache = `tsx-${process.geteuid ? process.geteuid() : userInfo().username}`; // as tsx names it
    mkdirSync(path.join(tmpdir(), tsxCache), { recursive: true, mode: 0o700 });
    symlinkSync(path.join(tmpdir(), tsxCache), path.join(shared.__ramTempDir.dir, tsxCache));
    // Forked workers and the CLIs they spawn inherit it; os.tmpdir() reads it on every call.
    process.env.TMPDIR = shared.__ramTempDir.dir;
    // Also when a later set-up fails and no teardown runs.
    const dir = shared.__ramTempDir.dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const entry = shared.__ramTempDir;
  entry.projects++;
  return () => {
    if (--entry.projects > 0) return;
    delete shared.__ramTempDir;
    delete process.env.TMPDIR;
    rmSync(entry.dir, { recursive: true, force: true });
  };
}
