import { sessionJar } from '../../support/next-headers-mock';
import { SUBJECTS, type Harness, type Subject } from '../harness';

// What the write permission matrices (AWS stores, Vault stores) share: who may write by role, what a
// store that is not writable answers instead, the cases as rows for describe.each, and a server
// action called as one signed-in caller.

export const A = 200;
/** Who may write, by role, on a writable store: [inside, outside]. 404 = outside the caller's grants. */
export const WRITE = { viewer: [403, 404], auditor: [403, 404], operator: [A, 404], admin: [A, A], 'scoped-admin': [A, 404] } as const;
export const ADMIN_ONLY = { viewer: [403, 404], auditor: [403, 404], operator: [403, 404], admin: [A, A], 'scoped-admin': [A, 404] } as const;
/** The same on a store that is not writable: whoever may write learns it is read-only (409); nothing is written. */
export const READ_ONLY = (table: Record<Subject, readonly [number, number]>) =>
  Object.fromEntries(Object.entries(table).map(([s, [i, o]]) => [s, [i === A ? 409 : i, o === A ? 409 : o]])) as Record<Subject, [number, number]>;

export type Expected = Record<string, Record<'rw' | 'ro', Record<Subject, readonly [number, number]>>>;

/** One row per action × store (writable or not) × subject × inside/outside the subject's grants. */
export const matrixCases = (expected: Expected) =>
  Object.entries(expected).flatMap(([action, byStore]) =>
    (['rw', 'ro'] as const).flatMap((store) =>
      SUBJECTS.flatMap((subject) => (['inside', 'outside'] as const).map((scope) => ({ action, store, subject, scope, expected: byStore[store][subject][scope === 'inside' ? 0 : 1] }))),
    ),
  );

/** A server action performed as `subject` (its session cookie), as a status and the body it returned. */
export async function asAction(h: Harness, subject: Subject, run: () => Promise<{ ok: boolean; status?: number }>) {
  sessionJar.cookie = h.cookies[subject];
  const result = await run();
  return { status: result.ok ? 200 : (result.status ?? 500), body: JSON.stringify(result) };
}
