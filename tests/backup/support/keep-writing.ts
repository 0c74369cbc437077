// A server stand-in for the backup tests: writes to the built-in store and the audit log without
// pause while a backup runs. Opens DATA_DIR's keyring (MASTER_KEY from the env), writes ITEMS items,
// prints "ready", then rotates them in turn (each rotation: a new version, then an audit entry, as
// the server does) until a line arrives on standard input; prints {"rotations":N} and exits.
// Each value is `value of NAME#VERSION`, so a restored store can be checked value by value.
// With SUPPRESSIONS=1 each rotation is followed by a finding suppression and every third by the
// lift of the one before, each written to findings.db and then audited as lib/data/findings.ts does.
import { createInterface } from 'node:readline';
import { appendAudit } from '@/lib/audit/audit-log';
import { FindingsDb } from '@/lib/findings/findings-db';
import { closeKeyrings, getKeyring } from '@/lib/crypto/keyring';
import { EmbeddedStore } from '@/lib/stores/embedded/store';

const items = Number(process.env.ITEMS ?? '20');
const ACTOR = 'os:backup-writer';
const withSuppressions = process.env.SUPPRESSIONS === '1';

const valueOf = (name: string, version: number | string) => `value of ${name}#${version}`;

async function main(): Promise<void> {
  const store = await EmbeddedStore.fromOpened('local', 'Built-in', await getKeyring());
  const names = Array.from({ length: items }, (_, i) => `/backup/app-${String(i).padStart(3, '0')}/token`);
  await store.putMany(names.map((name) => ({ name, value: valueOf(name, 1), actor: ACTOR })));
  await appendAudit({ actor: ACTOR, action: 'seed', target: 'local:/backup/', outcome: 'success', details: { items } });

  const findings = withSuppressions ? await FindingsDb.open(process.env.DATA_DIR!) : null;
  let lastSuppression = 0;
  let stop = false;
  const lines = createInterface({ input: process.stdin });
  lines.once('line', () => (stop = true));
  lines.once('close', () => (stop = true));
  console.log('ready');
  let rotations = 0;
  while (!stop) {
    const name = names[rotations % names.length]!;
    const current = Number((await store.getItem(name))!.versions[0]!.id);
    await store.putValue({ name, value: valueOf(name, current + 1), actor: ACTOR });
    await appendAudit({ actor: ACTOR, action: 'rotate', target: `local:${name}`, outcome: 'success', details: { version: current + 1 } });
    rotations += 1;
    if (findings) {
      const control = 'no-owner';
      const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const reason = `Suppressed while the backup runs (${rotations}).`;
      const id = await findings.addSuppression({ storeId: 'local', itemName: name, control, reason, expiresAt, createdBy: ACTOR, createdAt: new Date().toISOString() });
      await appendAudit({ actor: ACTOR, action: 'finding.suppress', target: `local:${name}`, outcome: 'success', details: { control, expiresAt, suppression: id, reason } });
      if (rotations % 3 === 0 && lastSuppression > 0) {
        const lifted = (await findings.suppression(lastSuppression))!;
        await findings.liftSuppression(lifted.id, ACTOR, new Date().toISOString());
        await appendAudit({ actor: ACTOR, action: 'finding.lift-suppression', target: `local:${lifted.itemName}`, outcome: 'success', details: { control, suppression: lifted.id } });
      }
      lastSuppression = id;
    }
    // A breath, so the backup process gets the CPU on a small machine (and writes interleave with it).
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  lines.close();
  await findings?.close();
  console.log(JSON.stringify({ rotations }));
  await closeKeyrings();
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`writer failed: ${error.message}`);
    process.exit(1);
  },
);
