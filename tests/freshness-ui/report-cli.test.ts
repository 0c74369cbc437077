import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRESHNESS_STATUSES, type FreshnessRow } from '@/lib/freshness/types';
import { STATUS_RANK } from '@/lib/freshness/worst-order';
import { CSV_COLUMNS } from '@/lib/report/report-format';
import { makeTempDir } from '../support/temp-dir';
import { parseCsv } from './csv';
import { SENTINEL_OUTSIDE, startFreshnessHarness, type FreshnessHarness } from './harness';

// npm run report, run as the operator runs it, on the harness's DATA_DIR and CONFIG_FILE.

let h: FreshnessHarness;
const out = makeTempDir('secrets-report-');
beforeAll(async () => {
  h = await startFreshnessHarness();
});
afterAll(() => {
  h.cleanup();
  out.cleanup();
});

function report(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/report.ts', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: h.dataDir, CONFIG_FILE: h.configFile, LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

function json(args: string[]): FreshnessRow[] {
  const run = report(['--format', 'json', ...args]);
  expect(run.stderr).toMatch(/item\(s\)/);
  expect(run.status).toBe(0);
  const parsed = JSON.parse(run.stdout) as { at: string; items: FreshnessRow[] };
  expect(Number.isNaN(Date.parse(parsed.at))).toBe(false);
  return parsed.items;
}

/** A CSV report back as rows keyed by column, with the formula guard taken off. */
function csvRecords(text: string): Record<string, string>[] {
  const [header, ...lines] = parseCsv(text);
  expect(header).toEqual([...CSV_COLUMNS]);
  return lines.map((cells) => Object.fromEntries(header!.map((column, i) => [column, cells[i]!.replace(/^'(?=[=+\-@\t\r])/, '')])));
}

const key = (store: string, name: string) => `${store}:${name}`;

describe('npm run report', () => {
  it('writes the same items, in the same order, as JSON and as CSV', () => {
    const items = json([]);
    expect(items.length).toBeGreaterThan(50);
    expect(items.map((i) => i.name)).toContain(SENTINEL_OUTSIDE); // the operator sees every path
    const file = path.join(out.dir, 'all.csv');
    const run = report(['--format', 'csv', '--output', file]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const records = csvRecords(readFileSync(file, 'utf8'));
    expect(records.map((r) => key(r.store!, r.name!))).toEqual(items.map((i) => key(i.storeId, i.name)));
    expect(records).toEqual(
      items.map((i) => ({
        store: i.storeId,
        name: i.name,
        kind: i.kind,
        status: i.status,
        age_days: String(i.ageDays),
        due_at: i.dueAt ?? '',
        last_changed_at: i.lastChangedAt,
        owner: i.owner ?? '',
        reason: i.reason,
        href: i.href,
      })),
    );
  });

  it('lists worst first and filters by each status flag', () => {
    const items = json([]);
    const severities = items.map((i) => STATUS_RANK[i.status]);
    expect(severities).toEqual([...severities].sort((a, b) => a - b));
    for (const status of FRESHNESS_STATUSES) {
      const only = json([`--${status}`, '--store', 'local']);
      expect(only.every((i) => i.status === status)).toBe(true);
      expect(only.map((i) => i.name)).toEqual(items.filter((i) => i.status === status).map((i) => i.name));
    }
    const two = json(['--overdue', '--status', 'fresh']);
    expect(two.length).toBe(items.filter((i) => i.status === 'overdue' || i.status === 'fresh').length);
  });

  it('exits 2 naming the problem on bad arguments, an unknown store or no DATA_DIR', () => {
    const bad = report(['--status', 'stale']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/"stale" is not a status/);
    expect(bad.stdout).toBe('');
    expect(report(['--format', 'xml']).stderr).toMatch(/--format must be json or csv/);
    const store = report(['--store', 'nope']);
    expect(store.status).toBe(2);
    expect(store.stderr).toMatch(/no store "nope"; the configured stores are local/);
    const missing = report([], { DATA_DIR: path.join(out.dir, 'does-not-exist') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/DATA_DIR .*does-not-exist does not exist/);
  });
});
