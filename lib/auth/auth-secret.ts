import 'server-only';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { readEnv } from '@/lib/config/env';

// The key that signs and encrypts session cookies: NEXTAUTH_SECRET (required with DATABASE_URL), or
// generated once into DATA_DIR/auth.secret (mode 0600) so sessions survive restarts.
let cached: { dir: string; secret: string } | undefined;

export function authSecret(): string {
  if (process.env.NEXTAUTH_SECRET) return process.env.NEXTAUTH_SECRET;
  // Replicas share no folder: a key generated into one's DATA_DIR would sign cookies the others refuse.
  if (process.env.DATABASE_URL)
    throw new Error('NEXTAUTH_SECRET must be set when DATABASE_URL is: every replica signs session cookies with it (try: openssl rand -base64 32).');
  const dir = path.resolve(readEnv().DATA_DIR);
  if (cached?.dir === dir) return cached.secret;
  const file = path.join(dir, 'auth.secret');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first; use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  cached = { dir, secret: readFileSync(file, 'utf8').trim() };
  return cached.secret;
}
