import 'server-only';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { operatorPrincipal } from '@/lib/auth/operator-principal';
import type { ReportOptions } from './report-args';
import { reportEncoder } from './report-format';
import { freshnessRows } from './freshness-rows';

// `npm run report`'s work once the stores are open: every matching item, worst first, written to
// `out` as it is read (backpressure respected). Full scope: it runs as the server machine's operator.

export async function writeReport(out: Writable, options: Pick<ReportOptions, 'stores' | 'statuses' | 'format'>, actor: string, now = new Date()): Promise<number> {
  const encoder = reportEncoder(options.format, now.toISOString());
  const write = async (text: string) => {
    if (text && !out.write(text)) await once(out, 'drain');
  };
  let count = 0;
  await write(encoder.head());
  for await (const row of freshnessRows(operatorPrincipal(actor), { storeIds: options.stores, statuses: options.statuses }, now)) {
    await write(encoder.row(row));
    count++;
  }
  await write(encoder.tail());
  return count;
}
