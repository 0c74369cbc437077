import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { gzipSync } from 'node:zlib';
import { cloudTrailLogKey, type SimObject } from '../simulated-s3';

// The trail's bucket, as CloudTrail delivers it: gzipped log files under
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/. One file per six hours keeps the bucket small (a
// real trail writes one about every five minutes); a file exists once its span has closed and been
// delivered, so the newest hours are in LookupEvents only.

const FILE_SPAN_MS = 6 * 3_600_000;

/** cloudTrailLogFile's file (gzipped {"Records": [...]}), at the fastest level: the demo makes hundreds at start. */
function logFile(records: CloudTrailRecord[]): Buffer {
  return gzipSync(JSON.stringify({ Records: records }), { level: 1 });
}

const DELIVERY_DELAY_MS = 5 * 60_000;

export function trailFiles(bucket: string, account: string, region: string, records: CloudTrailRecord[], now: number): SimObject[] {
  const byFile = new Map<number, CloudTrailRecord[]>();
  for (const r of records) {
    const start = Math.floor(Date.parse(r.eventTime!) / FILE_SPAN_MS) * FILE_SPAN_MS;
    if (start + FILE_SPAN_MS + DELIVERY_DELAY_MS > now) continue;
    let list = byFile.get(start);
    if (!list) byFile.set(start, (list = []));
    list.push(r);
  }
  return [...byFile.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, list]) => ({
      bucket,
      // Delivered a few minutes after the span closes; the unique part is deterministic.
      key: cloudTrailLogKey({ account, region, time: new Date(start + FILE_SPAN_MS + DELIVERY_DELAY_MS), unique: (start / FILE_SPAN_MS).toString(16).padStart(16, '0') }),
      body: logFile(list.sort((a, b) => (a.eventTime! < b.eventTime! ? -1 : a.eventTime! > b.eventTime! ? 1 : 0))),
    }));
}
