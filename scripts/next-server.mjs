// How `npm start` and the benchmark run the production server, so both serve the same way: build
// with `next build` when there is no build or the sources are newer than it, then `next start` with
// a bounded heap.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');
const buildId = path.join(root, '.next', 'BUILD_ID');
const SOURCES = ['app', 'components', 'lib', 'public', 'types', 'proxy.ts', 'instrumentation.ts', 'next.config.js', 'postcss.config.mjs', 'tsconfig.json', 'package-lock.json'];

function newestMtime(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(entry).map((child) => newestMtime(path.join(entry, child))));
}

export function needsBuild() {
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  return SOURCES.some((source) => newestMtime(path.join(root, source)) > built);
}

/** Returns the exit status of the build (0 when none was needed). */
export function buildIfNeeded() {
  if (!existsSync(nextBin)) {
    console.error('Dependencies are missing: run `npm install` first.');
    return 1;
  }
  if (!needsBuild()) return 0;
  console.log('Building the app (first start or sources changed)...');
  const build = spawnSync(process.execPath, [nextBin, 'build'], { cwd: root, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  return build.status ?? 1;
}

/**
 * Node's flags for the server. V8 otherwise lets the heap grow toward a quarter of the machine's
 * memory before collecting in earnest; a bound keeps the server's footprint near what it uses
 * (SERVER_HEAP_MB, default 256). A --max-old-space-size in NODE_OPTIONS wins.
 */
export function serverNodeArgs(env = process.env) {
  if (/--max-old-space-size/.test(env.NODE_OPTIONS ?? '')) return [];
  const mb = Number(env.SERVER_HEAP_MB ?? 256);
  if (!Number.isInteger(mb) || mb < 64 || mb > 65536) throw new Error(`SERVER_HEAP_MB must be a whole number of MB from 64 to 65536, not "${env.SERVER_HEAP_MB}".`);
  return [`--max-old-space-size=${mb}`];
}
