import { describe, expect, it } from 'vitest';
import type { FreshnessRow } from '@/lib/freshness/types';
import { CSV_COLUMNS, csvCell, reportEncoder } from '@/lib/report/report-format';
import { parseCsv } from './csv';

const row = (over: Partial<FreshnessRow>): FreshnessRow => ({
  storeId: 'local',
  name: '/prod/a',
  kind: 'SecureString',
  status: 'overdue',
  reason: 'Last changed 120 days ago; /prod/ allows 90 days.',
  dueAt: '2026-01-01T00:00:00.000Z',
  lastChangedAt: '2025-10-03T00:00:00.000Z',
  ageDays: 120,
  owner: 'payments',
  href: '/items/local/prod/a',
  ...over,
});

function encode(format: 'json' | 'csv', rows: FreshnessRow[]): string {
  const encoder = reportEncoder(format, '2026-02-01T00:00:00.000Z');
  return encoder.head() + rows.map((r) => encoder.row(r)).join('') + encoder.tail();
}

describe('report formats', () => {
  it('guards cells a spreadsheet would run as a formula, and quotes commas, quotes and line breaks', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('a, b')).toBe('"a, b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('/prod/a')).toBe('/prod/a');
    expect(csvCell(null)).toBe('');
    // Numbers are numbers, even negative ones (a clock a little ahead).
    expect(csvCell(-1)).toBe('-1');
    expect(csvCell(42)).toBe('42');
  });

  it('writes the same items in JSON and CSV', () => {
    const rows = [
      row({ name: '/prod/a', reason: 'Rotation failed: AWSPENDING left behind, since "2026-01-02".' }),
      row({ name: '/prod/b', status: 'due-soon', owner: null, dueAt: null, reason: '=cmd|calc' }),
      row({ name: '/prod/c', status: 'fresh', reason: 'Changed 3 days ago,\r\nwithin 90 days.' }),
    ];
    const json = JSON.parse(encode('json', rows)) as { at: string; items: FreshnessRow[] };
    const [header, ...lines] = parseCsv(encode('csv', rows));
    expect(json.at).toBe('2026-02-01T00:00:00.000Z');
    expect(json.items).toEqual(rows);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(lines).toHaveLength(rows.length);
    const unguard = (s: string) => s.replace(/^'(?=[=+\-@\t\r])/, '');
    const fromCsv = lines.map((cells) => Object.fromEntries(header!.map((h, i) => [h, unguard(cells[i]!)])));
    expect(fromCsv).toEqual(
      json.items.map((r) => ({
        store: r.storeId,
        name: r.name,
        kind: r.kind,
        status: r.status,
        age_days: String(r.ageDays),
        due_at: r.dueAt ?? '',
        last_changed_at: r.lastChangedAt,
        owner: r.owner ?? '',
        reason: r.reason,
        href: r.href,
      })),
    );
  });

  it('writes an empty report as an empty list and a lone header', () => {
    expect(JSON.parse(encode('json', []))).toEqual({ at: '2026-02-01T00:00:00.000Z', items: [] });
    expect(parseCsv(encode('csv', []))).toEqual([[...CSV_COLUMNS]]);
  });
});
