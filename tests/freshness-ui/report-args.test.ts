import { describe, expect, it } from 'vitest';
import { parseReportArgs } from '@/lib/report/report-args';

const ok = (argv: string[]) => {
  const result = parseReportArgs(argv);
  if (!result.ok || 'help' in result) throw new Error(`expected options, got ${JSON.stringify(result)}`);
  return result.value;
};
const problem = (argv: string[]) => {
  const result = parseReportArgs(argv);
  if (result.ok) throw new Error(`expected a problem, got ${JSON.stringify(result)}`);
  return result.message;
};

describe('npm run report arguments', () => {
  it('takes every status when none is chosen, JSON on standard output by default', () => {
    expect(ok([])).toEqual({ stores: [], statuses: [], format: 'json', output: null });
  });

  it.each([
    ['--overdue', ['overdue']],
    ['--due-soon', ['due-soon']],
    ['--never-rotated', ['never-rotated']],
    ['--rotation-failing', ['rotation-failing']],
    ['--fresh', ['fresh']],
  ])('maps %s to its status', (flag, statuses) => {
    expect(ok([flag]).statuses).toEqual(statuses);
  });

  it('joins flags and --status lists, worst first, each once', () => {
    expect(ok(['--fresh', '--status', 'due-soon,overdue', '--overdue', '--status=rotation-failing']).statuses).toEqual([
      'rotation-failing',
      'overdue',
      'due-soon',
      'fresh',
    ]);
  });

  it('takes stores repeated or as a comma list, a format and an output file', () => {
    expect(ok(['--store', 'prod-params', '--store=local,prod-params', '--format', 'csv', '--output', 'out.csv'])).toEqual({
      stores: ['prod-params', 'local'],
      statuses: [],
      format: 'csv',
      output: 'out.csv',
    });
  });

  it('names what is wrong', () => {
    expect(problem(['--stale'])).toMatch(/--stale/);
    expect(problem(['--status', 'stale'])).toMatch(/"stale" is not a status; use rotation-failing, overdue, never-rotated, due-soon, fresh/);
    expect(problem(['--format', 'xml'])).toMatch(/--format must be json or csv, not "xml"/);
    expect(problem(['--store', 'Prod Params'])).toMatch(/--store: "Prod Params" is not a store id/);
    expect(problem(['extra'])).toMatch(/extra/);
    expect(problem(['--output', ''])).toMatch(/--output needs a file name/);
  });

  it('answers --help', () => {
    expect(parseReportArgs(['--help'])).toEqual({ ok: true, help: true });
  });
});
