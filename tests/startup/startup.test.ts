import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { openStoresOrExit } from '@/lib/startup';
import { makeTempDir } from '../support/temp-dir';

// What `npm start` does before serving: open the stores, read the grants, create the first admin.
// Anything wrong stops start-up with a message that names it (process.exit(1)).

const saved = { ...process.env };
const temps: { cleanup: () => void }[] = [];
afterEach(() => {
  process.env = { ...saved };
  temps.splice(0).forEach((t) => t.cleanup());
  vi.restoreAllMocks();
});

function freshStart(env: Record<string, string>) {
  const temp = makeTempDir('secrets-startup-');
  temps.push(temp);
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();
  delete process.env.CONFIG_FILE;
  delete process.env.MASTER_KEY;
  Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), DEMO_DATA: '0', ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'long-enough-password' }, env);
  return temp.dir;
}

async function start(): Promise<{ exitCode: number | null; errors: string }> {
  let exitCode: number | null = null;
  const errors: string[] = [];
  vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    exitCode = code ?? 0;
    return undefined as never;
  }) as typeof process.exit);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await openStoresOrExit();
  return { exitCode, errors: errors.join('\n') };
}

describe('start-up', () => {
  it('starts on an empty data directory', async () => {
    freshStart({});
    expect(await start()).toEqual({ exitCode: null, errors: '' });
  });

  it('stops on a wrong master key, naming the cause', async () => {
    const dir = freshStart({});
    const { store } = await EmbeddedStore.open('local', 'x', { dataDir: path.join(dir, 'data'), masterKeyBase64: randomBytes(32).toString('base64') });
    await store.close();
    process.env.MASTER_KEY = randomBytes(32).toString('base64');
    const { exitCode, errors } = await start();
    expect(exitCode).toBe(1);
    expect(errors).toMatch(/cannot start:\s+The master key does not match/);
  });

  it.each([
    ['an unknown role', 'grants:\n  - group: g\n    role: root\n    paths: [/a/**]\n', /dashboard\.yaml:3: grants\[0\]: role must be one of/],
    ['a bad glob', 'grants:\n  - group: g\n    role: viewer\n    paths: ["a/**"]\n', /dashboard\.yaml:4: grants\[0\]: "a\/\*\*": a path glob starts with "\/"/],
    ['a missing field', 'grants:\n  - group: g\n    role: viewer\n', /dashboard\.yaml:2: grants\[0\]: paths must be a list/],
    ['a bad region', 'stores:\n  - id: p\n    kind: ssm\n    region: mars-1\n', /dashboard\.yaml:4: stores\[0\] \(id "p"\): region must be an AWS region/],
  ])('stops on a config file with %s, naming the line', async (_label, yaml, message) => {
    const dir = freshStart({});
    const file = path.join(dir, 'dashboard.yaml');
    writeFileSync(file, yaml);
    process.env.CONFIG_FILE = file;
    const { exitCode, errors } = await start();
    expect(exitCode).toBe(1);
    expect(errors).toMatch(message);
  });
});
