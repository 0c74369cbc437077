import 'server-only';
import { checkFolderToWrite, checkNameToWrite } from '@/lib/validations/item-name';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { parseDotenv, type DotenvProblem } from './dotenv';

export type ImportPlan =
  | { ok: true; prefix: string; entries: { name: string; value: string }[] }
  | { ok: false; problems: DotenvProblem[] };

/** Normalises "/app/dev" to "/app/dev/". */
export function normalisePrefix(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** Why --prefix cannot be imported into (naming the level at fault), or null. */
export function prefixProblem(prefixInput: string): string | null {
  const prefix = normalisePrefix(prefixInput);
  const problem = checkFolderToWrite(prefix);
  return problem ? `--prefix ${JSON.stringify(prefix)}: ${problem.message}` : null;
}

/** Checks the whole file and every resulting name before anything is opened or written. */
export function planDotenvImport(source: string, prefixInput: string): ImportPlan {
  const prefix = normalisePrefix(prefixInput);
  const badPrefix = prefixProblem(prefix);
  if (badPrefix) return { ok: false, problems: [{ line: 0, message: badPrefix }] };

  const { entries, problems } = parseDotenv(source);
  for (const entry of entries) {
    const nameProblem = checkNameToWrite(prefix + entry.key);
    if (nameProblem) problems.push({ line: entry.line, message: `${prefix}${entry.key}: ${nameProblem.message}` });
  }
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  if (entries.length === 0) return { ok: false, problems: [{ line: 0, message: 'the file holds no KEY=VALUE lines' }] };
  return { ok: true, prefix, entries: entries.map((e) => ({ name: prefix + e.key, value: e.value })) };
}

/** Writes a checked plan as SecureStrings in one transaction; existing items get a new version. */
export async function applyDotenvImport(
  store: EmbeddedStore,
  plan: Extract<ImportPlan, { ok: true }>,
  actor: string,
): Promise<{ created: string[]; updated: string[] }> {
  const existing = new Set<string>();
  for (const { name } of plan.entries) if (await store.getItem(name)) existing.add(name);
  await store.putMany(plan.entries.map(({ name, value }) => ({ name, value, kind: 'SecureString' as const, actor })));
  const names = plan.entries.map((e) => e.name);
  return { created: names.filter((n) => !existing.has(n)), updated: names.filter((n) => existing.has(n)) };
}
