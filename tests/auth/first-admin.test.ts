import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_EMAIL, ensureFirstAdmin } from '@/lib/auth/first-admin';
import { authOptions } from '@/lib/auth/options';
import { countUsers, listUsers } from '@/lib/auth/users';
import { makeTempDir } from '../support/temp-dir';

const temp = makeTempDir('secrets-first-admin-');
const saved = { ...process.env };
beforeAll(() => {
  process.env.DATA_DIR = path.join(temp.dir, 'data');
  delete process.env.ADMIN_EMAIL;
  delete process.env.ADMIN_PASSWORD;
  delete process.env.CONFIG_FILE;
});
afterAll(() => {
  process.env = saved;
  temp.cleanup();
});

const signIn = (email: string, password: string) => {
  const provider = authOptions().providers.find((p) => p.id === 'credentials') as unknown as {
    options: { authorize: (c: Record<string, string>, req: { headers: Record<string, string> }) => Promise<unknown> };
  };
  return provider.options.authorize({ email, password }, { headers: { 'x-forwarded-for': '127.0.0.1' } });
};

describe('the first admin', () => {
  it('is created once with a printed password that signs in (the quick start path)', async () => {
    const printed: string[] = [];
    await ensureFirstAdmin((line) => printed.push(line));
    const password = /password: (\S+)/.exec(printed.join('\n'))?.[1];
    expect(password).toBeTruthy();
    expect(printed.join('\n')).toContain(DEFAULT_ADMIN_EMAIL);
    await expect(signIn(DEFAULT_ADMIN_EMAIL, password!)).resolves.toMatchObject({ email: DEFAULT_ADMIN_EMAIL });

    const again: string[] = [];
    await ensureFirstAdmin((line) => again.push(line));
    expect(again).toEqual([]);
    expect(await countUsers()).toBe(1);
    expect((await listUsers())[0]).toMatchObject({ email: DEFAULT_ADMIN_EMAIL, role: 'admin', provider: 'local' });
  });
});
