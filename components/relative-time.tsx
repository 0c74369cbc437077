import { formatDistanceToNowStrict, format } from 'date-fns';

/** "3 months ago", with the exact UTC time on hover and in the datetime attribute. */
export function RelativeTime({ iso }: { iso: string }) {
  const date = new Date(iso);
  return (
    <time dateTime={iso} title={format(date, "yyyy-MM-dd HH:mm 'UTC'xxx")}>
      {formatDistanceToNowStrict(date, { addSuffix: true })}
    </time>
  );
}

export const STALE_AFTER_DAYS = 180;

export function ageInDays(iso: string, now = Date.now()): number {
  return Math.floor((now - Date.parse(iso)) / 86_400_000);
}
