import { format } from 'date-fns';
import { describe, expect, it } from 'vitest';
import { exactTime } from '@/components/virtual-items-table';

// The folder table's "last changed" tooltip is written by hand (date-fns's format parses its pattern on
// every call, for every row of every page); it must say exactly what format said.

describe('exactTime', () => {
  it('writes what format(date, "yyyy-MM-dd HH:mm \'UTC\'xxx") writes, in the local time zone', () => {
    const dates = ['2026-01-05T14:03:59.999Z', '2026-07-01T00:00:00.000Z', '1999-12-31T23:59:00.000Z', '0999-03-04T05:06:00.000Z', '2024-02-29T12:30:00.000Z'];
    for (const iso of dates) expect(exactTime(new Date(iso))).toBe(format(new Date(iso), "yyyy-MM-dd HH:mm 'UTC'xxx"));
  });

  it('names the minutes and the offset, not the seconds', () => {
    const text = exactTime(new Date('2026-01-05T14:03:59.000Z'));
    expect(text).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC[+-]\d{2}:\d{2}$/);
    expect(text).not.toContain(':59');
  });
});
