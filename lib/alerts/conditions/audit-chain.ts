import 'server-only';
import { lastAnchor } from '@/lib/audit/anchors';
import { keptChainVerdict } from '@/lib/audit/chain-status';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, type Condition } from './common';

// audit-chain: the audit chain does not verify, or the newest anchor was not written out (its S3
// write failed). Each evaluation checks only the entries appended since the kept verified head and
// reads the kept verdicts (lib/audit/chain-status.ts): an altered or removed new entry raises at
// once, an edit further back when the background full pass finds it (every
// AUDIT_FULL_VERIFY_HOURS, or on demand), and the alert clears when a full pass verifies the
// restored log. The verdicts are the database's, so every replica evaluates the same.

/** Where the subjects of this event live: the dashboard's own audit log, not a store. */
export const AUDIT_SUBJECT_STORE = 'audit-log';

async function chainProblem(): Promise<string | null> {
  const verdict = await keptChainVerdict();
  if (verdict.brokenAt !== null) return `entry #${verdict.brokenAt}: ${verdict.problem ?? 'entries were altered or removed'}`;
  if (verdict.verdictAlteredAt) return 'the kept verification record was altered (it does not verify under the audit chain key); a full pass is verifying the chain again';
  return null;
}

export const auditChainCondition: Condition = async () => {
  const subjects: ConditionSubject[] = [];
  const problem = await chainProblem();
  if (problem) subjects.push({ storeId: AUDIT_SUBJECT_STORE, name: 'audit chain', url: absoluteUrl('/audit'), status: `does not verify: ${problem}` });
  const anchor = await lastAnchor();
  if (anchor?.s3Error) subjects.push({ storeId: AUDIT_SUBJECT_STORE, name: 'audit anchor', url: absoluteUrl('/audit'), status: `anchor of entry #${anchor.seq} not written to S3` });
  return subjects;
};
