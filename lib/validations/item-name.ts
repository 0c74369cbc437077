import { z } from 'zod';

// Parameter Store's naming rules, applied to every store so a name that works in the embedded
// store also works in AWS. Each failure names the rule it broke.
export const MAX_NAME_LENGTH = 2048;
export const MAX_NAME_LEVELS = 15;
const ALLOWED = /^[a-zA-Z0-9_.\-/]+$/;

export type NameProblem = { rule: string; message: string };

export function checkItemName(name: string): NameProblem | null {
  if (name.length === 0) return { rule: 'required', message: 'Name is empty: give a path such as /prod/app/db-password.' };
  if (name.length > MAX_NAME_LENGTH)
    return { rule: 'length', message: `Name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed.` };
  if (!ALLOWED.test(name)) {
    const bad = [...new Set([...name].filter((c) => !/[a-zA-Z0-9_.\-/]/.test(c)))]
      .map((c) => JSON.stringify(c))
      .join(', ');
    const level = name.slice(0, name.search(/[^a-zA-Z0-9_.\-/]/)).split('/').length - 1;
    const where = name.startsWith('/') ? ` (first in level ${level})` : '';
    return { rule: 'characters', message: `Name contains ${bad}${where}; only letters, digits and _ . - / are allowed.` };
  }
  if (!name.startsWith('/')) return { rule: 'leading-slash', message: 'Name must start with "/", e.g. /prod/app/db-password.' };
  if (name.endsWith('/')) return { rule: 'trailing-slash', message: 'Name must not end with "/": that is a folder.' };
  const empty = name.split('/').indexOf('', 1);
  if (empty !== -1) return { rule: 'empty-level', message: `Name "${name}" has an empty level (level ${empty}, a "//"): every level needs a name.` };
  const levels = name.split('/').length - 1;
  if (levels > MAX_NAME_LEVELS)
    return { rule: 'levels', message: `Name has ${levels} levels; at most ${MAX_NAME_LEVELS} are allowed.` };
  const first = name.split('/')[1] ?? '';
  if (/^(aws|ssm)/i.test(first))
    return { rule: 'reserved-prefix', message: 'Name must not begin with "aws" or "ssm" (reserved by AWS).' };
  return null;
}

/**
 * A "." or ".." level of a name, which names taken literally allow (AWS may hold such names, and they
 * are listed and read as they are) but no write may create: anyone reading the name would take it for
 * a step to the folder above or the same folder. Null when there is none.
 */
function dotLevelProblem(name: string, what: 'Name' | 'Folder'): NameProblem | null {
  const levels = name.split('/');
  const at = levels.findIndex((level, index) => index > 0 && (level === '.' || level === '..'));
  if (at === -1) return null;
  return {
    rule: 'dot-level',
    message: `${what} "${name}" has a "${levels[at]}" level (level ${at}): names are taken literally, so "${levels[at]}" would not step to another folder but be stored as a level of its own; write the full path without "." or ".." levels.`,
  };
}

/**
 * The rules for a name something is about to WRITE: checkItemName's, and no "." or ".." level.
 * Every write path (server actions, the import, the built-in store itself) checks with this;
 * reading and listing use checkItemName, so names AWS already holds stay reachable.
 */
export function checkNameToWrite(name: string): NameProblem | null {
  return checkItemName(name) ?? dotLevelProblem(name, 'Name');
}

export function checkFolderPath(path: string): NameProblem | null {
  if (path === '/') return null;
  if (!path.startsWith('/') || !path.endsWith('/'))
    return { rule: 'folder-form', message: 'A folder path starts and ends with "/", e.g. /prod/app/.' };
  const problem = checkItemName(path.slice(0, -1));
  return problem && problem.rule !== 'reserved-prefix' ? problem : null;
}

/** checkFolderPath, and no "." or ".." level: for folders a write puts names into (the import's --prefix). */
export function checkFolderToWrite(path: string): NameProblem | null {
  return checkFolderPath(path) ?? (path === '/' ? null : dotLevelProblem(path, 'Folder'));
}

export const itemNameSchema = z.string().superRefine((name, ctx) => {
  const problem = checkItemName(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.message, params: { rule: problem.rule } });
});

/** The name of an item a server action writes (rotate, generate, schedule): see checkNameToWrite. */
export const nameToWriteSchema = z.string({ error: 'Give the item name, e.g. /prod/app/db-password.' }).superRefine((name, ctx) => {
  const problem = checkNameToWrite(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.message, params: { rule: problem.rule } });
});

export const folderPathSchema = z.string().superRefine((path, ctx) => {
  const problem = checkFolderPath(path);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.message, params: { rule: problem.rule } });
});

/** Folder of a name: "/a/b/c" -> "/a/b/". */
export function folderOf(name: string): string {
  return name.slice(0, name.lastIndexOf('/') + 1);
}

/** Last level of a name or folder: "/a/b/c" -> "c", "/a/b/" -> "b". */
export function leafOf(nameOrFolder: string): string {
  const trimmed = nameOrFolder.endsWith('/') ? nameOrFolder.slice(0, -1) : nameOrFolder;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Ancestors of a folder, root first: "/a/b/" -> ["/", "/a/", "/a/b/"]. */
export function ancestorsOf(folder: string): string[] {
  const parts = folder.split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}/`)];
}
