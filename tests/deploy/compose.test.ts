import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeProblems, envOf, parseCompose } from './support/compose';
import { replaceOnce } from './support/edit';

// compose.yaml, read as Compose reads it (merge keys included), without a Docker daemon.

const compose = readFileSync(path.join(process.cwd(), 'compose.yaml'), 'utf8');
const MASTER_KEY_LINE = 'MASTER_KEY: ${MASTER_KEY:?set MASTER_KEY (openssl rand -base64 32) in .env.compose or the shell}';

describe('compose.yaml', () => {
  it('passes every check', () => {
    expect(composeProblems(compose)).toEqual([]);
  });

  it('gives the app DATABASE_URL, MASTER_KEY and NEXTAUTH_SECRET from outside, and the tools the same', () => {
    const { services = {} } = parseCompose(compose);
    const app = envOf(services.app!);
    expect(app.DATABASE_URL).toMatch(/^postgres:\/\/dashboard:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/dashboard$/);
    expect(app.MASTER_KEY).toMatch(/^\$\{MASTER_KEY:\?/);
    expect(app.NEXTAUTH_SECRET).toMatch(/^\$\{NEXTAUTH_SECRET:\?/);
    const tools = envOf(services.tools!);
    expect([tools.DATABASE_URL, tools.MASTER_KEY, tools.NEXTAUTH_SECRET]).toEqual([app.DATABASE_URL, app.MASTER_KEY, app.NEXTAUTH_SECRET]);
    expect(services.tools!.profiles).toEqual(['tools']);
  });

  it('finds a secret written in the file, or given a literal default', () => {
    expect(composeProblems(replaceOnce(compose, MASTER_KEY_LINE, 'MASTER_KEY: q83vEjRWeJCrze8SNFxnKYq8Y1z0jYv2pM5w9lWwMCA='))).toEqual([
      "app's MASTER_KEY is not a required ${MASTER_KEY:?…} variable",
      "app's MASTER_KEY is written in the file (use ${MASTER_KEY:?…})",
      "tools's MASTER_KEY is written in the file (use ${MASTER_KEY:?…})",
    ]);
    expect(composeProblems(replaceOnce(compose, 'ADMIN_PASSWORD: ${ADMIN_PASSWORD:-}', 'ADMIN_PASSWORD: ${ADMIN_PASSWORD:-changeme-please}'))).toEqual([
      "app's ADMIN_PASSWORD is written in the file (use ${ADMIN_PASSWORD:?…})",
    ]);
    expect(composeProblems(replaceOnce(compose, /postgres:\/\/dashboard:\$\{[^}]+\}@/, 'postgres://dashboard:hunter2@'))).toEqual([
      "app's DATABASE_URL has a literal password",
      "tools's DATABASE_URL has a literal password",
    ]);
    expect(composeProblems(replaceOnce(compose, /POSTGRES_PASSWORD: \$\{[^}]+\}/, 'POSTGRES_PASSWORD: hunter2'))).toEqual([
      'POSTGRES_PASSWORD is not a required ${…:?…} variable',
      "postgres's POSTGRES_PASSWORD is written in the file (use ${POSTGRES_PASSWORD:?…})",
    ]);
    // The list form of environment is read too.
    const listForm = replaceOnce(compose, '    environment:\n      POSTGRES_USER: dashboard\n      POSTGRES_DB: dashboard\n', '    environment:\n      - POSTGRES_USER=dashboard\n      - POSTGRES_DB=dashboard\n      - REPLICATION_PASSWORD=s3cret\n');
    expect(composeProblems(listForm.replace(/      POSTGRES_PASSWORD: \$\{[^}]+\}\n/, '      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD:?set it}\n'))).toEqual([
      "postgres's REPLICATION_PASSWORD is written in the file (use ${REPLICATION_PASSWORD:?…})",
    ]);
  });

  it('finds a database without a health check or volume, another version, and an app that does not wait for it', () => {
    expect(composeProblems(replaceOnce(compose, '"pg_isready -U dashboard -d dashboard"', '"true"'))).toEqual(['the postgres service has no pg_isready healthcheck']);
    expect(composeProblems(replaceOnce(compose, '      - postgres-data:/var/lib/postgresql/data\n', '      - /tmp/pg:/var/lib/postgresql/data\n'))).toEqual([
      'the postgres service keeps /var/lib/postgresql/data in no named volume',
    ]);
    expect(composeProblems(replaceOnce(compose, 'image: postgres:16', 'image: postgres:15'))).toEqual(['no postgres:16 service']);
    expect(composeProblems(replaceOnce(compose, 'condition: service_healthy', 'condition: service_started'))).toEqual([
      'app does not wait for postgres to be healthy (depends_on condition: service_healthy)',
    ]);
    expect(composeProblems(replaceOnce(compose, '@postgres:5432/dashboard', '@db.example.com:5432/dashboard'))).toEqual([
      "app's DATABASE_URL points at db.example.com, not the postgres service",
    ]);
    expect(composeProblems(replaceOnce(compose, '"${DASHBOARD_PORT:-3000}:3000"', '"8080:8080"'))).toEqual(['app does not publish container port 3000']);
  });
});
