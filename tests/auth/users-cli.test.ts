import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir';

const temp = makeTempDir('secrets-users-cli-');
afterAll(() => temp.cleanup());

function users(args: string[], input?: string) {
  return spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/users.ts', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: path.join(temp.dir, 'data') },
    encoding: 'utf8',
    input,
  });
}

describe('npm run users', () => {
  it('adds a user with a generated password shown once, lists and removes them', () => {
    const added = users(['add', 'dana@example.com', '--role', 'operator']);
    expect(added.status).toBe(0);
    expect(added.stdout).toMatch(/Added dana@example.com as operator\.\nPassword \(shown only this once\): \S{12,}/);

    const listed = users(['list']);
    expect(listed.stdout).toMatch(/dana@example.com\toperator\tlocal\tnever signed in/);
    expect(listed.stdout).not.toMatch(/\$argon2/);

    expect(users(['remove', 'dana@example.com']).stdout).toContain('Removed dana@example.com');
    expect(users(['list']).stdout).toContain('No users yet.');
  });

  it('reads a password from standard input without echoing it', () => {
    const added = users(['add', 'eli@example.com', '--role', 'viewer', '--password-stdin'], 'a-chosen-password-123\n');
    expect(added.status).toBe(0);
    expect(added.stdout + added.stderr).not.toContain('a-chosen-password-123');
  });

  it.each([
    [['add', 'not-an-email', '--role', 'viewer'], 2, /give a valid email address/],
    [['add', 'f@example.com', '--role', 'superuser'], 2, /--role must be one of viewer, auditor, operator, admin/],
    [['add', 'eli@example.com', '--role', 'viewer'], 1, /already exists/],
    [['remove', 'nobody@example.com'], 1, /No user nobody@example.com/],
    [['frobnicate'], 2, /usage:/],
  ])('refuses %j with a clear message', (args, status, message) => {
    const run = users(args as string[]);
    expect(run.status).toBe(status);
    expect(run.stderr).toMatch(message);
  });

  it('refuses a short password from standard input', () => {
    const run = users(['add', 'g@example.com', '--role', 'viewer', '--password-stdin'], 'short\n');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/at least 12 characters/);
  });
});
