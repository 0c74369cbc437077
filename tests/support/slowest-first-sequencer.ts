import { BaseSequencer, type TestSpecification } from 'vitest/node';

// With a few workers, the run ends when its longest file does: that file must start first, not
// be picked up last by a worker that is otherwise done. Vitest orders by the durations it cached
// from the last run (node_modules/.vite/vitest/**/results.json); a fresh clone has none and would
// fall back to file size, which puts these small files that run long (a million-entry log, child
// processes, simulated AWS quotas) near the end. Milliseconds of a fresh clone's `npm test` on a 2-core
// machine, two workers (vitest's per-file time); files under 7 s keep vitest's order.
export const KNOWN_DURATION_MS: Record<string, number> = {
  'tests/inventory/ssm-walk.test.ts': 63_000,
  'tests/consumers/consumers-demo.test.ts': 50_000,
  'tests/audit/verify-million.test.ts': 48_000,
  'tests/inventory/sync.test.ts': 32_000,
  'tests/findings/findings-demo.test.ts': 47_000,
  'tests/cloudtrail/sync-lookup.test.ts': 36_000,
  'tests/audit/audit-verify.test.ts': 26_000,
  'tests/cloudtrail/sync-restart.test.ts': 20_000,
  'tests/master-key/kill.test.ts': 18_000,
  'tests/audit/audit-log-filters.test.ts': 17_000,
  'tests/auth/users-cli.test.ts': 17_000,
  'tests/audit/chain-verdict.test.ts': 16_000,
  'tests/auth/access-surfaces.property.test.ts': 16_000,
  'tests/migrate-data/migrate-data.test.ts': 15_000,
  'tests/auth/access-cloudtrail.property.test.ts': 15_000,
  'tests/cloudtrail/index-queries.test.ts': 13_000,
  'tests/freshness-ui/report-cli.test.ts': 12_000,
  'tests/inventory/ssm-walk-refusals.test.ts': 11_000,
  'tests/master-key/cli.test.ts': 9_000,
  'tests/backup/backup-under-writes.test.ts': 9_000,
  'tests/inventory/sync-secrets-manager.test.ts': 9_000,
  'tests/findings/incremental.test.ts': 8_000,
  'tests/demo/organisation.test.ts': 7_000,
};

export class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byDefault = await super.sort(files);
    const cache = this.ctx.cache;
    const durationOf = (file: TestSpecification): number | undefined => {
      const relative = file.moduleId.slice(this.ctx.config.root.length + 1);
      return cache.getFileTestResults(`${file.project.name}:${relative}`)?.duration ?? KNOWN_DURATION_MS[relative];
    };
    // Known durations (cached, else the table above) longest first; the rest keep vitest's order after them.
    const known = byDefault.filter((file) => durationOf(file) !== undefined);
    const unknown = byDefault.filter((file) => durationOf(file) === undefined);
    known.sort((a, b) => durationOf(b)! - durationOf(a)!);
    return [...known, ...unknown];
  }
}
