import { formatDistanceToNowStrict, format } from 'date-fns';

/** "3 months ago" (or "2025-07-30 · 1 year ago" with showDate), exact time on hover and in the datetime attribute. */
export function RelativeTime({ iso, showDate = false }: { iso: string; showDate?: boolean }) {
  const date = new Date(iso);
  const relative = formatDistanceToNowStrict(date, { addSuffix: true });
  return (
    <time dateTime={iso} title={format(date, "yyyy-MM-dd HH:mm 'UTC'xxx")}>
      {showDate ? `${date.toISOString().slice(0, 10)} · ${relative}` : relative}
    </time>
  );
}
