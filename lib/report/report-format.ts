import type { FreshnessRow } from '@/lib/freshness/types';

// The report's two formats, written row by row so 100,000 items never sit in memory as one string.
// JSON: {"at": ISO, "items": [FreshnessRow, …]}. CSV (RFC 4180): a header and one line per item,
// CRLF line ends, cells quoted when they hold a quote, comma or line break, and text cells that a
// spreadsheet would run as a formula (= + - @, tab, carriage return first) prefixed with '.

export const CSV_COLUMNS = ['store', 'name', 'kind', 'status', 'age_days', 'due_at', 'last_changed_at', 'owner', 'reason', 'href'] as const;

function csvValues(row: FreshnessRow): (string | number | null)[] {
  return [row.storeId, row.name, row.kind, row.status, row.ageDays, row.dueAt, row.lastChangedAt, row.owner, row.reason, row.href];
}

/** One CSV cell: numbers as they are; text guarded against formulas, then quoted if needed. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

export function csvLine(cells: (string | number | null)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A row's fields by name, in a fixed order and nothing else (the report's JSON and /api/v1/freshness). */
export function freshnessRowFields(row: FreshnessRow): FreshnessRow {
  const { storeId, name, kind, status, reason, dueAt, lastChangedAt, ageDays, owner, href } = row;
  return { storeId, name, kind, status, reason, dueAt, lastChangedAt, ageDays, owner, href };
}

function jsonRow(row: FreshnessRow): string {
  return JSON.stringify(freshnessRowFields(row));
}

export interface ReportEncoder {
  head(): string;
  row(row: FreshnessRow): string;
  tail(): string;
}

export function reportEncoder(format: 'json' | 'csv', at: string): ReportEncoder {
  if (format === 'csv') {
    return { head: () => csvLine([...CSV_COLUMNS]), row: (row) => csvLine(csvValues(row)), tail: () => '' };
  }
  let first = true;
  return {
    head: () => `{"at":${JSON.stringify(at)},"items":[`,
    row: (row) => {
      const text = `${first ? '\n' : ',\n'}${jsonRow(row)}`;
      first = false;
      return text;
    },
    tail: () => `${first ? '' : '\n'}]}\n`,
  };
}
