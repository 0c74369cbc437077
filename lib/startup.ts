import 'server-only';
import { ensureFirstAdmin } from '@/lib/auth/first-admin';
import { grantRules } from '@/lib/auth/effective-grants';
import { readEnv } from '@/lib/config/env';
import { appDb } from '@/lib/db/app-db';
import { startAnchorTimer } from '@/lib/audit/anchors';
import { startAuditChainVerification } from '@/lib/background/audit-chain-verification';
import { auditChainKey } from '@/lib/crypto/keyring';
import { checkPostgres } from '@/lib/db/postgres';
import { auditEventIndex, startAuditRetention } from '@/lib/cloudtrail/audit-events';
import { startCloudTrailSync } from '@/lib/cloudtrail/cloudtrail';
import { freshnessPolicies } from '@/lib/freshness/policies';
import { alertsConfig } from '@/lib/alerts/alerts-config';
import { startAlertDelivery } from '@/lib/alerts/alerts';
import { startAlertEvaluation } from '@/lib/alerts/evaluation';
import { startInventorySync } from '@/lib/inventory/inventory';
import { startFindingsEvaluation } from '@/lib/findings/findings';
import { getStores } from '@/lib/stores/registry';

/**
 * A wrong master key, a damaged database or a bad configuration stops start-up with a clear
 * message instead of failing the first request.
 */
export async function openStoresOrExit(): Promise<void> {
  try {
    // The database first: an unreachable or wrong DATABASE_URL is named as such (host,
    // authentication, database) before anything reads or writes. Then every area's migrations run
    // here, so a failing one stops start-up: the app's and the CloudTrail index's (with CloudTrail
    // sources or not) now, the built-in store's and the inventory's as they open below.
    const { DATABASE_URL } = readEnv();
    if (DATABASE_URL) await checkPostgres(DATABASE_URL);
    // The audit chain key (with the master key) before the app database: a log from before the
    // keyed chain needs it in migration 0004, and a wrong key stops start-up here, not an append later.
    await auditChainKey();
    await appDb();
    await auditEventIndex();
    const stores = await getStores();
    // The grants, read and checked once here (then kept): a glob that can never match (an empty,
    // "." or ".." level) or an unknown store stops start-up naming the line, not the first sign-in.
    await grantRules();
    // A bad freshness: section stops start-up here, naming the line, not on the first page.
    freshnessPolicies();
    // Alert channels (their secrets in the environment) and rules: a bad entry stops start-up naming it.
    alertsConfig();
    await ensureFirstAdmin();
    await startInventorySync();
    startAuditRetention();
    // The audit chain's head to the log (and S3) every AUDIT_ANCHOR_INTERVAL_MINUTES when it moved.
    startAnchorTimer();
    // ...and the replica holding 'audit-chain-verification' verifies it whole every AUDIT_FULL_VERIFY_HOURS and on demand.
    startAuditChainVerification();
    await startCloudTrailSync();
    // Findings follow the inventory and the CloudTrail index: evaluated now, then as they move.
    await startFindingsEvaluation();
    // Alerts: the replica holding the 'alerts-delivery' lease sends the queue and the daily digests.
    await startAlertDelivery();
    // ...and the one holding 'alerts-evaluation' evaluates the rules every ALERTS_EVALUATE_SECONDS.
    startAlertEvaluation();
    console.log(`Secrets Dashboard: ${stores.length} store(s) open: ${stores.map((s) => s.id).join(', ')}`);
  } catch (error) {
    console.error(`\nSecrets Dashboard cannot start:\n  ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
