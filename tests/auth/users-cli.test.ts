import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

const temp = makeTempDir('secrets-users-cli-');
afterAll(() => temp.cleanup());

const dataDir = path.join(temp.dir, 'data');

function users(args: string[], input?: string, env: Record<string, string> = { DATA_DIR: dataDir }) {
  return spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/users.ts', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    input,
    // A tool that keeps running once its work is done (an open pool) is killed here and fails below.
    timeout: 30_000,
  });
}

type AuditRow = { seq: number; actor: string; action: string; target: string; outcome: string; details: string };
function auditRows(): AuditRow[] {
  const db = new Database(path.join(dataDir, 'app.db'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as AuditRow[];
  } finally {
    db.close();
  }
}
const newestAudit = () => auditRows().at(-1)!;
const osActor = `os:${userInfo().username}`;

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

  describe('the audit log', () => {
    const SENTINEL = 'SENTINEL-password-7f3a9c-never-logged';

    it('records add and remove with the operating-system user, via the CLI, and never the password', () => {
      const before = auditRows().length;
      expect(users(['add', 'hana@example.com', '--role', 'auditor', '--password-stdin'], `${SENTINEL}\n`).status).toBe(0);
      const added = newestAudit();
      expect(added).toMatchObject({ actor: osActor, action: 'create-user', target: 'hana@example.com', outcome: 'success' });
      expect(JSON.parse(added.details)).toEqual({ role: 'auditor', via: 'cli', passwordSource: 'stdin' });

      expect(users(['remove', 'hana@example.com']).status).toBe(0);
      const removed = newestAudit();
      expect(removed).toMatchObject({ actor: osActor, action: 'remove-user', target: 'hana@example.com', outcome: 'success' });
      expect(JSON.parse(removed.details)).toEqual({ role: 'auditor', provider: 'local', via: 'cli' });
      expect(auditRows().length).toBe(before + 2);

      // Nowhere in the audit rows, nor anywhere in the database's files.
      expect(JSON.stringify(auditRows())).not.toContain(SENTINEL);
      for (const file of ['app.db', 'app.db-wal']) {
        const full = path.join(dataDir, file);
        if (existsSync(full)) expect(readFileSync(full).includes(SENTINEL)).toBe(false);
      }
    });

    it('records failures once the command knows what it tried, and nothing for unusable arguments', () => {
      const before = auditRows().length;
      expect(users(['add', 'eli@example.com', '--role', 'viewer']).status).toBe(1); // exists since an earlier test
      expect(newestAudit()).toMatchObject({ actor: osActor, action: 'create-user', target: 'eli@example.com', outcome: 'failure' });
      expect(JSON.parse(newestAudit().details)).toMatchObject({ via: 'cli', reason: expect.stringContaining('already exists') });

      expect(users(['remove', 'nobody@example.com']).status).toBe(1);
      expect(newestAudit()).toMatchObject({ actor: osActor, action: 'remove-user', target: 'nobody@example.com', outcome: 'failure' });
      expect(JSON.parse(newestAudit().details)).toEqual({ via: 'cli', reason: 'no such user' });

      expect(users(['add', 'ivy@example.com', '--role', 'viewer', '--password-stdin'], 'short\n').status).toBe(2);
      expect(newestAudit()).toMatchObject({ action: 'create-user', target: 'ivy@example.com', outcome: 'failure' });
      expect(auditRows().length).toBe(before + 3);

      // Not an email, an unknown role, no command: nothing was tried.
      expect(users(['add', 'not-an-email', '--role', 'viewer']).status).toBe(2);
      expect(users(['add', 'ivy@example.com', '--role', 'superuser']).status).toBe(2);
      expect(users(['frobnicate']).status).toBe(2);
      expect(users(['list']).status).toBe(0); // reading is not audited
      expect(auditRows().length).toBe(before + 3);
    });

    it('leaves an intact chain behind', () => {
      const run = spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/audit-verify.ts'], {
        cwd: process.cwd(),
        env: { ...process.env, DATA_DIR: dataDir },
        encoding: 'utf8',
      });
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`Audit chain intact: ${auditRows().length} entries`);
    });
  });
});

describe('npm run users with DATABASE_URL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  // No DATA_DIR of its own: nothing may be written there when the data is in PostgreSQL.
  const unusedDataDir = path.join(temp.dir, 'unused-data');
  // On PostgreSQL the master key (and the audit chain key sealed under it) comes from MASTER_KEY.
  const masterKey = Buffer.alloc(32, 5).toString('base64');
  const env = () => ({ DATA_DIR: unusedDataDir, DATABASE_URL: database.url, MASTER_KEY: masterKey });
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  async function auditRowsIn(url: string): Promise<AuditRow[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<AuditRow>('SELECT * FROM app.audit_log ORDER BY seq')).rows;
    } finally {
      await client.end();
    }
  }

  it('adds, lists and removes a user in the database, audited, each run exiting by itself', async () => {
    const added = users(['add', 'pat@example.com', '--role', 'auditor'], undefined, env());
    expect(added.error).toBeUndefined();
    expect(added.status).toBe(0);
    expect(added.stdout).toMatch(/Added pat@example.com as auditor\.\nPassword \(shown only this once\): \S{12,}/);

    const listed = users(['list'], undefined, env());
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/pat@example.com\tauditor\tlocal\tnever signed in/);

    const removed = users(['remove', 'pat@example.com'], undefined, env());
    expect(removed.status).toBe(0);
    expect(removed.stdout).toContain('Removed pat@example.com');
    expect(users(['list'], undefined, env()).stdout).toContain('No users yet.');

    const rows = await auditRowsIn(database.url);
    expect(rows.map((r) => ({ actor: r.actor, action: r.action, target: r.target, outcome: r.outcome }))).toEqual([
      { actor: osActor, action: 'create-user', target: 'pat@example.com', outcome: 'success' },
      { actor: osActor, action: 'remove-user', target: 'pat@example.com', outcome: 'success' },
    ]);
    expect(JSON.parse(rows[0]!.details)).toEqual({ role: 'auditor', via: 'cli', passwordSource: 'generated' });
    expect(existsSync(unusedDataDir)).toBe(false);

    const verified = spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/audit-verify.ts'], {
      cwd: process.cwd(),
      env: { ...process.env, ...env() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain('Audit chain intact: 2 entries');
  }, 60_000); // five runs of a tool, each starting node and tsx
});
