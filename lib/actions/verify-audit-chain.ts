'use server';

import { z } from 'zod';
import { requestAuditChainVerification } from '@/lib/data/audit';
import { authedAction } from './authed-action';

// Admins (verify-audit-chain): the /audit button starts a full pass of the audit chain now, on the
// replica leading the verification (queued for it when that is another); the page shows its
// progress. Audited; a refusal is audited as a denial.
const run = authedAction({ schema: z.object({}).strict(), permission: 'verify-audit-chain' }, (_input, principal) => requestAuditChainVerification(principal));

export async function verifyAuditChainAction(input: unknown) {
  return run(input);
}
