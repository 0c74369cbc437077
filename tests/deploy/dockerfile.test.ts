import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseImage, dockerfileProblems, parseDockerfile, type RepoFiles } from './support/dockerfile';
import { dockerignoreProblems, isExcluded } from './support/dockerignore';
import { replaceLast, replaceOnce } from './support/edit';

// The container image's recipe, read without a Docker daemon: multi-stage, a numeric non-root user,
// no secret in any layer, a health check on /api/health, the standalone server; and the build context
// without .env files, data or installed files.

const root = process.cwd();
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(path.join(root, '.dockerignore'), 'utf8');
const repo: RepoFiles = { read: (p) => (existsSync(path.join(root, p)) ? readFileSync(path.join(root, p), 'utf8') : undefined) };

describe('Dockerfile', () => {
  it('passes every check', () => {
    expect(dockerfileProblems(dockerfile, repo)).toEqual([]);
  });

  it('builds in stages and serves from the last one, on node:20-bookworm-slim, as uid 10001', () => {
    const file = parseDockerfile(dockerfile);
    expect(file.stages.map((s) => s.name)).toEqual(['base', 'deps', 'build', 'tools', 'runtime']);
    const runtime = file.stages.at(-1)!;
    expect(baseImage(file, runtime)).toBe('node:20-bookworm-slim');
    expect(runtime.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args)).toEqual(['10001:10001']);
    // The compiler is only in the stage that installs.
    const aptStages = file.stages.filter((s) => s.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('apt-get install')));
    expect(aptStages.map((s) => s.name)).toEqual(['deps']);
  });

  it('finds a single stage', () => {
    expect(dockerfileProblems('FROM node:20-bookworm-slim\nUSER 10001\nCMD ["node", "server.js"]\n', repo)).toContain('not multi-stage: 1 FROM');
  });

  it('finds a server running as root, by name or without USER', () => {
    expect(dockerfileProblems(replaceLast(dockerfile, 'USER 10001:10001', 'USER root'), repo)).toContain(
      "the final stage's USER root is not numeric (Kubernetes cannot verify runAsNonRoot)",
    );
    expect(dockerfileProblems(replaceLast(dockerfile, 'USER 10001:10001', 'USER 0'), repo)).toContain("the final stage's USER 0 is root");
    expect(dockerfileProblems(replaceLast(dockerfile, 'USER 10001:10001\n', ''), repo)).toContain('the final stage sets no USER (the server would run as root)');
  });

  it('finds secrets put into layers through ARG, ENV or RUN', () => {
    const withArg = replaceOnce(dockerfile, 'FROM base AS build\n', 'FROM base AS build\nARG DATABASE_URL\n');
    expect(dockerfileProblems(withArg, repo)).toEqual([expect.stringMatching(/ARG DATABASE_URL would put a secret into the image/)]);
    const withEnv = replaceOnce(dockerfile, '    PORT=3000 \\\n', '    PORT=3000 \\\n    MASTER_KEY=AAAA \\\n');
    expect(dockerfileProblems(withEnv, repo)).toEqual([expect.stringMatching(/ENV MASTER_KEY would put a secret into the image/)]);
    const withPassword = replaceOnce(dockerfile, 'FROM base AS deps\n', 'FROM base AS deps\nARG ADMIN_PASSWORD=changeme\n');
    expect(dockerfileProblems(withPassword, repo)).toEqual([expect.stringMatching(/ARG ADMIN_PASSWORD would put a secret/)]);
    const legacyEnv = replaceOnce(dockerfile, 'FROM base AS deps\n', 'FROM base AS deps\nENV NEXTAUTH_SECRET abc\n');
    expect(dockerfileProblems(legacyEnv, repo)).toEqual([expect.stringMatching(/ENV NEXTAUTH_SECRET would put a secret/)]);
    const inRun = replaceOnce(dockerfile, 'RUN DATA_DIR=/tmp/build-data npm run build', 'RUN NEXTAUTH_SECRET=x DATA_DIR=/tmp/build-data npm run build');
    expect(dockerfileProblems(inRun, repo)).toEqual([expect.stringMatching(/RUN sets a secret variable/)]);
    const copyEnv = replaceOnce(dockerfile, 'COPY . .\n', 'COPY . .\nCOPY .env.production ./\n');
    expect(dockerfileProblems(copyEnv, repo)).toEqual([expect.stringMatching(/COPY brings in an .env file/)]);
  });

  it('finds a missing health check, or one that does not ask /api/health', () => {
    const without = replaceOnce(dockerfile, /HEALTHCHECK[^\n]*\\\n[^\n]*\n/, '');
    expect(dockerfileProblems(without, repo)).toContain('the final stage has no HEALTHCHECK');
    const otherPath: RepoFiles = { read: (p) => repo.read(p)?.replaceAll('/api/health', '/') };
    expect(dockerfileProblems(dockerfile, otherPath)).toContain('the HEALTHCHECK does not ask /api/health (inline or in a script the image copies)');
    const inline = replaceOnce(dockerfile, /CMD \["node", "\/usr\/local\/lib\/secrets-dashboard\/healthcheck\.mjs"\]/, `CMD node -e "fetch('http://127.0.0.1:3000/api/health')"`);
    expect(dockerfileProblems(inline, otherPath)).toEqual([]);
  });

  it('finds a different base image, a missing heap bound and a build without the standalone output', () => {
    expect(dockerfileProblems(replaceOnce(dockerfile, 'ARG NODE_IMAGE=node:20-bookworm-slim', 'ARG NODE_IMAGE=node:20-alpine'), repo)).toContain(
      'the final stage starts from node:20-alpine, not node:20-bookworm-slim',
    );
    expect(dockerfileProblems(replaceOnce(dockerfile, ' \\\n    NODE_OPTIONS=--max-old-space-size=256', ''), repo)).toContain("the final stage's ENV NODE_OPTIONS is unset");
    expect(dockerfileProblems(replaceOnce(dockerfile, 'ENV NEXT_OUTPUT=standalone\n', ''), repo)).toContain('the build stage does not set NEXT_OUTPUT=standalone');
    expect(dockerfileProblems(replaceOnce(dockerfile, ' \\\n && cp -r .next/static .next/standalone/.next/static', ''), repo)).toContain(
      'the build stage does not copy .next/static into the standalone folder',
    );
    expect(dockerfileProblems(replaceOnce(dockerfile, /RUN --mount=type=bind[^\n]*\\\n[^\n]*smoke-test\.mjs \/app\n/, ''), repo)).toEqual([
      'the final stage does not smoke-test the server folder it ships (smoke-test.mjs /app)',
    ]);
  });
});

describe('next.config.js', () => {
  const config = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['-p', "const c = require('./next.config.js'); JSON.stringify({ output: c.output ?? null, external: c.serverExternalPackages })"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
      encoding: 'utf8',
    });

  it('builds standalone only when NEXT_OUTPUT=standalone, as the Dockerfile sets it', () => {
    expect(JSON.parse(config({ NEXT_OUTPUT: 'standalone' }).stdout).output).toBe('standalone');
    expect(JSON.parse(config({}).stdout).output).toBeNull();
    expect(JSON.parse(config({ NEXT_OUTPUT: 'export' }).stdout).output).toBeNull();
  });

  it('keeps the native addons and pg outside the bundle, so the standalone output copies them', () => {
    expect(JSON.parse(config({}).stdout).external).toEqual(expect.arrayContaining(['better-sqlite3', '@node-rs/argon2', 'pg']));
  });
});

describe('.dockerignore', () => {
  it('keeps secrets, data, installed and built files and test output out, and lets the build see its sources', () => {
    expect(dockerignoreProblems(dockerignore)).toEqual([]);
  });

  it('reads patterns as Docker does: folders, later lines and ! exceptions', () => {
    expect(isExcluded('data\n', 'data/secrets.db')).toBe(true);
    expect(isExcluded('data\n', 'lib/data/x.ts')).toBe(false);
    expect(isExcluded('**/*.db\n', 'lib/x.db')).toBe(true);
    expect(isExcluded('.env.*\n!.env.example\n', '.env.example')).toBe(false);
    expect(isExcluded('.env.*\n!.env.example\n', '.env.production')).toBe(true);
  });

  it('finds an .env file or the data folder let in, and a needed source left out', () => {
    const letEnvIn = dockerignore.replace(/^\.env$/m, '').replace(/^\*\*\/\.env$/m, '');
    expect(dockerignoreProblems(letEnvIn)).toEqual(['.env would be sent to the image build']);
    expect(dockerignoreProblems(`${dockerignore}\n!.env.production\n`)).toEqual(['.env.production would be sent to the image build']);
    expect(dockerignoreProblems(replaceOnce(dockerignore, /^data$/m, ''))).toEqual([
      'data/auth.secret would be sent to the image build',
      'data/exports/report.csv would be sent to the image build',
    ]);
    expect(dockerignoreProblems(`${dockerignore}\ndeploy\n`)).toEqual([
      'deploy/docker/healthcheck.mjs is left out, but the image build needs it',
      'deploy/docker/smoke-test.mjs is left out, but the image build needs it',
    ]);
  });
});
