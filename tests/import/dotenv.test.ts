import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDotenv } from '@/lib/import/dotenv';
import { applyDotenvImport, planDotenvImport } from '@/lib/import/import-dotenv';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { makeTempDir } from '../support/temp-dir';

describe('dotenv parser', () => {
  it('reads plain, exported, quoted, escaped, commented and multi-line values', () => {
    const { entries, problems } = parseDotenv(
      [
        '# a comment',
        '',
        'PLAIN=abc123',
        'export EXPORTED=yes',
        'SPACED = padded value   # trailing comment',
        'DOUBLE="a \\"quoted\\" \\n value"',
        "SINGLE='literal \\n # not a comment'",
        'PEM="-----BEGIN KEY-----',
        'MIIB',
        '-----END KEY-----"',
        'HASH=abc#def',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(Object.fromEntries(entries.map((e) => [e.key, e.value]))).toEqual({
      PLAIN: 'abc123',
      EXPORTED: 'yes',
      SPACED: 'padded value',
      DOUBLE: 'a "quoted" \n value',
      SINGLE: 'literal \\n # not a comment',
      PEM: '-----BEGIN KEY-----\nMIIB\n-----END KEY-----',
      HASH: 'abc#def',
    });
    expect(entries.find((e) => e.key === 'PEM')?.line).toBe(8);
  });

  it('reports every bad line by number, and never the value', () => {
    const { problems } = parseDotenv(
      ['OK=1', 'no equals sign', '9BAD=x', 'EMPTY=', 'OK=again-SECRETVALUE', 'OPEN="never closed SECRETVALUE', 'X=1'].join('\n'),
    );
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6]);
    expect(problems[0]!.message).toMatch(/no "="/);
    expect(problems[1]!.message).toMatch(/not a valid key/);
    expect(problems[2]!.message).toMatch(/empty value/);
    expect(problems[3]!.message).toMatch(/already set on line 1/);
    expect(problems[4]!.message).toMatch(/never closed/);
    expect(JSON.stringify(problems)).not.toContain('SECRETVALUE');
  });

  it('rejects a value over 8 KB', () => {
    expect(parseDotenv(`BIG=${'x'.repeat(8193)}`).problems[0]?.message).toMatch(/longer than 8192 bytes/);
  });
});

describe('import plan', () => {
  it('checks the prefix and the resulting names', () => {
    expect(planDotenvImport('A=1', '/bad prefix/')).toMatchObject({ ok: false });
    const plan = planDotenvImport('A=1', '/app/dev');
    expect(plan).toEqual({ ok: true, prefix: '/app/dev/', entries: [{ name: '/app/dev/A', value: '1' }] });
    expect(planDotenvImport('# nothing', '/app/')).toMatchObject({ ok: false, problems: [{ message: /no KEY=VALUE/ }] });
  });
});

// Names are taken literally, so a prefix with a ".." level would not land where it reads: it is
// refused, naming the level, before anything is read or written.
const BAD_PREFIXES = [
  ['a ".." level', '/prod/payments/../../staging/', /Folder "\/prod\/payments\/\.\.\/\.\.\/staging\/" has a "\.\." level \(level 3\): names are taken literally/],
  ['a "." level', '/prod/./payments/', /has a "\." level \(level 2\)/],
  ['an empty level', '/prod//payments/', /has an empty level \(level 2, a "\/\/"\)/],
  ['a control character', '/prod/pay\u0001ments/', /contains "\\u0001" \(first in level 2\)/],
] as const;

describe('import plan: prefixes no name may be written under', () => {
  it.each(BAD_PREFIXES)('refuses a prefix with %s, naming it', (_label, prefix, message) => {
    const plan = planDotenvImport('KEY=1', prefix);
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.problems.map((p) => p.message).join('\n')).toMatch(message);
  });
});

describe('import into the embedded store', () => {
  const temp = makeTempDir();
  const dataDir = path.join(temp.dir, 'data');
  afterAll(() => temp.cleanup());

  it('writes SecureStrings and a new version where the item exists', async () => {
    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir });
    try {
      const first = planDotenvImport('DB_PASSWORD=one\nAPI_KEY=two', '/app/dev/');
      if (!first.ok) throw new Error('plan failed');
      expect(await applyDotenvImport(store, first, 'tester')).toEqual({ created: ['/app/dev/DB_PASSWORD', '/app/dev/API_KEY'], updated: [] });
      const second = planDotenvImport('DB_PASSWORD=three', '/app/dev/');
      if (!second.ok) throw new Error('plan failed');
      expect(await applyDotenvImport(store, second, 'tester')).toEqual({ created: [], updated: ['/app/dev/DB_PASSWORD'] });
      const item = await store.getItem('/app/dev/DB_PASSWORD');
      expect(item).toMatchObject({ kind: 'SecureString', currentVersion: '2', lastChangedBy: 'tester' });
      expect(await store.readValue('/app/dev/DB_PASSWORD')).toBe('three');
    } finally {
      await store.close();
    }
  });

  function runCli(file: string, ...args: string[]) {
    return spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/import-env.ts', file, ...args], {
      cwd: process.cwd(),
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
    });
  }

  it('the CLI imports a good file without printing values', () => {
    const file = path.join(temp.dir, 'good.env');
    writeFileSync(file, 'CLI_TOKEN=cli-secret-VALUE-42\n');
    const run = runCli(file, '--prefix', '/cli/');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('created  /cli/CLI_TOKEN');
    expect(run.stdout + run.stderr).not.toContain('cli-secret-VALUE-42');
  });

  it('the CLI writes nothing for a file with bad lines and names the lines', async () => {
    const file = path.join(temp.dir, 'bad.env');
    writeFileSync(file, 'GOOD=fine-VALUE\nbroken\nALSO_GOOD=ok\n');
    const run = runCli(file, '--prefix', '/cli-bad/');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('line 2:');
    expect(run.stderr).toContain('Nothing was imported');
    expect(run.stdout + run.stderr).not.toContain('fine-VALUE');
    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir });
    try {
      expect((await store.list({ path: '/cli-bad/' })).items).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.each(BAD_PREFIXES)('the CLI refuses a --prefix with %s: exit 2 naming the level, nothing written', async (_label, prefix, message) => {
    const file = path.join(temp.dir, 'dots.env');
    writeFileSync(file, 'KEY=dots-VALUE\nOTHER=dots-VALUE\n');
    const run = runCli(file, '--prefix', prefix);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Nothing was imported');
    expect(run.stdout + run.stderr).not.toContain('dots-VALUE');
    // A control character never reaches the terminal as it is.
    expect(run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir });
    try {
      const { items } = await store.list({ path: '/', recursive: true });
      expect(items.map((i) => i.name).filter((n) => /\/(KEY|OTHER)$/.test(n))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('the CLI explains missing arguments', () => {
    const run = runCli(path.join(temp.dir, 'good.env'));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--prefix/);
  });
});
