import 'server-only';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

// Who "this process" is in the rows replicas share (lease holders, write claims): host, pid and a
// random part (a container's pid is often 1 on every replica, and a restarted process must not be
// taken for its predecessor). Next.js bundles server code more than once, so it lives on globalThis:
// every copy in one process answers the same.

const g = globalThis as unknown as { __processHolder?: string };

export function processHolderId(): string {
  return (g.__processHolder ??= `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`);
}
