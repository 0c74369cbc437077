import 'server-only';
import { DamagedBackupError, NotABackupError, UnsupportedBackupError } from './container';
import { RestoreCheckError } from './check-restored';
import { RestoreKeyError } from './restore-key';
import { RestoreRefusedError } from './restore-backup';
import { BackupRefusedError } from './take-backup';

// The exit codes of npm run backup / restore, in one place so the tests check what the tools do.
// 2: nothing was done (the request cannot be carried out as given); 1: the work was attempted and
// failed, or a check failed (nothing left behind, nothing restored).

export function backupExitCode(error: unknown): 1 | 2 {
  return error instanceof BackupRefusedError ? 2 : 1;
}

export function restoreExitCode(error: unknown): 1 | 2 {
  if (error instanceof RestoreRefusedError || error instanceof RestoreKeyError || error instanceof NotABackupError || error instanceof UnsupportedBackupError) return 2;
  return 1;
}

/** Errors whose message is written for the operator; anything else is reported as an unexpected failure. */
export function isExpectedRestoreError(error: unknown): error is Error {
  return restoreExitCode(error) === 2 || error instanceof DamagedBackupError || error instanceof RestoreCheckError;
}
