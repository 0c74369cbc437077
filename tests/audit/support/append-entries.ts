// A second process appending to the audit log, for the concurrent-append test: prints "ready" once
// loaded, waits for a line on standard input (so both processes start together), then appends COUNT
// entries as fast as it can.
import { createInterface } from 'node:readline';
import { appendAudit } from '@/lib/audit/audit-log';
import { flushAnchors } from '@/lib/audit/anchors';
import { appDb } from '@/lib/db/app-db';

const count = Number(process.env.COUNT ?? '100');
const writer = process.env.WRITER ?? 'w';

async function main(): Promise<void> {
  await appDb(); // open (and migrate) the database before the start signal, so both processes append from the first entry
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  console.log('ready');
  await go;
  lines.close();
  for (let i = 0; i < count; i++) {
    await appendAudit({ actor: `os:${writer}`, action: 'concurrent-append', target: `local:/race/${writer}/${i}`, outcome: 'success', details: { i } });
    // A breath between appends, as real writers leave: without it the process that holds SQLite's
    // write lock takes it again at once while the other sleeps in its busy handler, and on a loaded
    // machine could write all its entries before the other writes one (no overlap to test).
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  // Anchors go out in the background after an append; a tool lets them finish before it exits.
  await flushAnchors();
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`append failed: ${error.message}`);
    process.exit(1);
  },
);
