import { afterEach, describe, expect, it, vi } from 'vitest';

const userInfo = vi.fn<() => { username: string }>();
vi.mock('node:os', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:os')>()), userInfo }));
const { cliActor } = await import('@/lib/audit/cli-actor');

const savedEnv = { USER: process.env.USER, USERNAME: process.env.USERNAME, LOGNAME: process.env.LOGNAME };
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('the actor of a command-line tool', () => {
  it('is the operating-system account, marked os: so no dashboard account can look like it', () => {
    userInfo.mockReturnValue({ username: 'alice' });
    process.env.USER = 'someone-else';
    expect(cliActor()).toBe('os:alice');
  });

  it('falls back to $USER, then "unknown", when the uid has no account entry', () => {
    userInfo.mockImplementation(() => {
      throw new Error('ENOENT: no such file or directory, uv_os_get_passwd');
    });
    process.env.USER = 'bob';
    expect(cliActor()).toBe('os:bob');
    delete process.env.USER;
    delete process.env.USERNAME;
    delete process.env.LOGNAME;
    expect(cliActor()).toBe('os:unknown');
  });

  it('cannot carry line breaks or control characters into the log', () => {
    userInfo.mockReturnValue({ username: 'eve\nos:admin\u0007' });
    expect(cliActor()).toBe('os:eve_os:admin_');
  });
});
