// How suppressions appear in the audit chain: written by lib/data/findings.ts, and read back by a
// restore (lib/backup/check-decisions.ts), which trusts a backed-up suppression only as far as
// its audit entry vouches for it. One place, so the two cannot drift apart.

export const SUPPRESS_ACTION = 'finding.suppress';
export const LIFT_ACTION = 'finding.lift-suppression';
/** The audit entry keeps this many characters of the reason (the whole reason stays in the findings store). */
export const AUDITED_REASON_CHARS = 200;
