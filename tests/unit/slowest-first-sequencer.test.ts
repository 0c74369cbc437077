import { describe, expect, it } from 'vitest';
import { KNOWN_DURATION_MS, SlowestFirstSequencer } from '../support/slowest-first-sequencer';

// The order vitest.config.mts runs the files in: longest first, from vitest's results cache when it
// has the file, else from the sequencer's table of measured durations; the rest after them.

const ROOT = '/repo';
const project = { name: '', config: { sequence: { groupOrder: 0 }, isolate: true } };
const spec = (file: string) => ({ moduleId: `${ROOT}/${file}`, project });

function sequencer(cached: Record<string, number>) {
  const ctx = {
    config: { root: ROOT },
    cache: {
      getFileTestResults: (key: string) => (key.slice(1) in cached ? { duration: cached[key.slice(1)]!, failed: false } : undefined),
      getFileStats: () => undefined,
    },
  };
  return new SlowestFirstSequencer(ctx as never);
}

async function order(files: string[], cached: Record<string, number> = {}): Promise<string[]> {
  const sorted = await sequencer(cached).sort(files.map(spec) as never);
  return sorted.map((file) => file.moduleId.slice(ROOT.length + 1));
}

describe('the longest-first sequencer', () => {
  const files = ['tests/unit/envelope.test.ts', 'tests/audit/verify-million.test.ts', 'tests/http/csp-policy.test.ts', 'tests/cloudtrail/sync-lookup.test.ts'];

  it('without a results cache, starts the files its table knows to be long, longest first', async () => {
    // The table is refreshed from fresh-clone runs: the two long files come first in its order, whichever that is.
    const long = ['tests/cloudtrail/sync-lookup.test.ts', 'tests/audit/verify-million.test.ts'];
    for (const file of long) expect(KNOWN_DURATION_MS[file]).toBeGreaterThan(7_000);
    expect(KNOWN_DURATION_MS['tests/unit/envelope.test.ts']).toBeUndefined();
    long.sort((a, b) => KNOWN_DURATION_MS[b]! - KNOWN_DURATION_MS[a]!);
    expect(await order(files)).toEqual([...long, 'tests/unit/envelope.test.ts', 'tests/http/csp-policy.test.ts']);
  });

  it("takes vitest's cached durations over the table, and leaves a short file after the long ones", async () => {
    const cached = { 'tests/http/csp-policy.test.ts': 60_000, 'tests/cloudtrail/sync-lookup.test.ts': 5_000, 'tests/unit/envelope.test.ts': 10 };
    expect(await order(files, cached)).toEqual(['tests/http/csp-policy.test.ts', 'tests/audit/verify-million.test.ts', 'tests/cloudtrail/sync-lookup.test.ts', 'tests/unit/envelope.test.ts']);
  });
});
