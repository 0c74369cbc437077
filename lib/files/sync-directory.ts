import { closeSync, fsyncSync, openSync } from 'node:fs';

/**
 * Flushes a folder's entries (a rename, a new link, an unlink) to disk, so they survive a power cut as
 * well as the data they go with. Best effort: some file systems refuse fsync on a folder, and the
 * rename itself is atomic anyway.
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // see above
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
