// Seeds a browser-test server's DATA_DIR for the audit timeline spec, through the app's own APIs:
// CloudTrail events in audit-events.db (EventIndex.ingest, as a sync would), own-log entries in
// app.db (appendAudit), and a local account for the scoped auditor. Run as a separate process with
// the react-server condition (server-only modules refuse other importers):
//   node --conditions=react-server --import tsx e2e/support/seed-audit-main.ts DATA_DIR JSON
// where JSON is { auditor: {email,password}, records: CloudTrailRecord[], own: AuditEntryInput[], stores: StoreLocator[] }.
const [dataDirArg, json] = process.argv.slice(2);
if (!dataDirArg || !json) throw new Error('usage: seed-audit-main.ts DATA_DIR JSON');
const dataDir: string = dataDirArg;
process.env.DATA_DIR = dataDir;

const input = JSON.parse(json) as {
  auditor: { email: string; password: string };
  records: import('@/lib/cloudtrail/types').CloudTrailRecord[];
  own: import('@/lib/audit/audit-log').AuditEntryInput[];
  stores: import('@/lib/cloudtrail/types').StoreLocator[];
};

async function main(): Promise<void> {
const { EventIndex } = await import('@/lib/cloudtrail/event-index');
const { appendAudit } = await import('@/lib/audit/audit-log');
const { createLocalUser, findUserByEmail } = await import('@/lib/auth/users');

const index = await EventIndex.open(dataDir, { retentionDays: 400 });
await index.ingest('e2e-seed', 'lookup-events', { account: '111122223333', region: 'us-east-1' }, input.records, { cursor: { seeded: true }, lastSuccessAt: new Date().toISOString() }, input.stores);
await index.close();
for (const entry of input.own) await appendAudit(entry);
// Grants naming the account in CONFIG_FILE replace this role, so it only needs to exist.
if (!(await findUserByEmail(input.auditor.email))) await createLocalUser({ email: input.auditor.email, role: 'viewer', password: input.auditor.password });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
