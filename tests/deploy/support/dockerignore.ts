import picomatch from 'picomatch';

// Whether a .dockerignore keeps a path out of the build context, the way Docker reads it: patterns
// relative to the context root, a pattern matching a folder excludes everything in it, later lines
// win, and `!` lines bring paths back.

interface Rule {
  negated: boolean;
  matches: (path: string) => boolean;
}

function rules(text: string): Rule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { negated, matches: picomatch(pattern, { dot: true }) };
    });
}

/** The path and every folder above it: `a/b/c` → `a`, `a/b`, `a/b/c`. */
function selfAndParents(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

export function isExcluded(dockerignore: string, path: string): boolean {
  let excluded = false;
  for (const rule of rules(dockerignore)) {
    if (selfAndParents(path).some((p) => rule.matches(p))) excluded = !rule.negated;
  }
  return excluded;
}

/** Paths that must never reach the image, and files the image's build needs. */
export const MUST_EXCLUDE = [
  '.env',
  '.env.local',
  '.env.production',
  '.env.compose',
  'data/secrets.db',
  'data/master.key',
  'data/auth.secret',
  'data/exports/report.csv',
  'master.key',
  'node_modules/next/package.json',
  '.next/BUILD_ID',
  '.git/HEAD',
  'test-results/report.json',
  'playwright-report/index.html',
  'blob-report/report.zip',
  'tsconfig.tsbuildinfo',
];

export const MUST_INCLUDE = [
  'package.json',
  'package-lock.json',
  'next.config.js',
  'postcss.config.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
  'instrumentation.ts',
  'proxy.ts',
  'app/layout.tsx',
  'lib/startup.ts',
  'components',
  'types',
  'public/favicon.ico',
  'scripts/next-server.mjs',
  'deploy/docker/healthcheck.mjs',
  'deploy/docker/smoke-test.mjs',
];

export function dockerignoreProblems(text: string): string[] {
  return [
    ...MUST_EXCLUDE.filter((p) => !isExcluded(text, p)).map((p) => `${p} would be sent to the image build`),
    ...MUST_INCLUDE.filter((p) => isExcluded(text, p)).map((p) => `${p} is left out, but the image build needs it`),
  ];
}
