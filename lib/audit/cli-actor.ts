import 'server-only';
import { userInfo } from 'node:os';

// Who ran a command-line tool, for the audit log: the operating-system account, written "os:NAME"
// so it can never be mistaken for a dashboard account (those are email addresses).

function osUserName(): string {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid (common in containers): fall back to the environment.
  }
  return process.env.USER || process.env.USERNAME || process.env.LOGNAME || 'unknown';
}

export function cliActor(): string {
  // Control characters would let a crafted name forge lines in anything that prints the log.
  const name = osUserName().replace(/[\p{Cc}\s]/gu, '_').slice(0, 100);
  return `os:${name || 'unknown'}`;
}
