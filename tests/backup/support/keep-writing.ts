// A server stand-in for the backup tests: writes to the built-in store and the audit log without
// pause while a backup runs. Opens DATA_DIR's keyring (MASTER_KEY from the env), writes ITEMS items,
// prints "ready", then rotates them in turn (each rotation: a new version, then an audit entry, as
// the server does) until a line arrives on standard input; prints {"rotations":N} and exits.
// Each value is `value of NAME#VERSION`, so a restored store can be checked value by value.
import { createInterface } from 'node:readline';
import { appendAudit } from '@/lib/audit/audit-log';
import { closeKeyrings, getKeyring } from '@/lib/crypto/keyring';
import { EmbeddedStore } from '@/lib/stores/embedded/store';

const items = Number(process.env.ITEMS ?? '20');
const ACTOR = 'os:backup-writer';

const valueOf = (name: string, version: number | string) => `value of ${name}#${version}`;

async function main(): Promise<void> {
  const store = await EmbeddedStore.fromOpened('local', 'Built-in', await getKeyring());
  const names = Array.from({ length: items }, (_, i) => `/backup/app-${String(i).padStart(3, '0')}/token`);
  await store.putMany(names.map((name) => ({ name, value: valueOf(name, 1), actor: ACTOR })));
  await appendAudit({ actor: ACTOR, action: 'seed', target: 'local:/backup/', outcome: 'success', details: { items } });

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
    // A breath, so the backup process gets the CPU on a small machine (and writes interleave with it).
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  lines.close();
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
