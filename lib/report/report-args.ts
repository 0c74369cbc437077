import { parseArgs } from 'node:util';
import { FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import { orderStatuses, statusListSchema } from '@/lib/validations/freshness';

// The arguments of `npm run report`: which stores, which statuses (a flag per status and --status
// with a comma list; all when none), the format and where to write. Anything wrong is one message.

export const REPORT_USAGE = `usage: npm run report -- [--store ID]... [--rotation-failing] [--overdue] [--never-rotated] [--due-soon] [--fresh]
                          [--status a,b] [--format json|csv] [--output FILE]
  Every item of every store (or of the --store ones) with the chosen statuses (all when none), worst first,
  read from the inventory in DATA_DIR (CONFIG_FILE names the stores). Statuses: ${FRESHNESS_STATUSES.join(', ')}.`;

export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  /** Store ids; empty for every store. */
  stores: string[];
  /** Worst first; empty for every status. */
  statuses: FreshnessStatus[];
  format: ReportFormat;
  /** A file to write; null for standard output. */
  output: string | null;
}

export type ReportArgsResult = { ok: true; value: ReportOptions } | { ok: true; help: true } | { ok: false; message: string };

/** One boolean flag per status, named as the status is (--overdue, --due-soon, …). */
const STATUS_FLAGS = Object.fromEntries(FRESHNESS_STATUSES.map((s) => [s, { type: 'boolean' as const }])) as Record<FreshnessStatus, { type: 'boolean' }>;
const STORE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function parseReportArgs(argv: string[]): ReportArgsResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        ...STATUS_FLAGS,
        store: { type: 'string', multiple: true },
        status: { type: 'string', multiple: true },
        format: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values.help) return { ok: true, help: true };

  const statuses: FreshnessStatus[] = FRESHNESS_STATUSES.filter((s) => values[s] === true);
  for (const list of (values.status as string[] | undefined) ?? []) {
    const result = statusListSchema.safeParse(list);
    if (!result.success) return { ok: false, message: `--${result.error.issues[0]!.message}` };
    statuses.push(...result.data);
  }

  const stores = [...new Set(((values.store as string[] | undefined) ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()))];
  const badStore = stores.find((s) => !STORE_ID.test(s));
  if (badStore !== undefined) return { ok: false, message: `--store: "${badStore.slice(0, 70)}" is not a store id (lowercase letters, digits and dashes)` };

  const format = (values.format as string | undefined) ?? 'json';
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) return { ok: false, message: `--format must be json or csv, not "${format.slice(0, 40)}"` };

  const output = (values.output as string | undefined) ?? null;
  if (output !== null && output.trim() === '') return { ok: false, message: '--output needs a file name' };

  return { ok: true, value: { stores, statuses: orderStatuses(statuses), format: format as ReportFormat, output } };
}
