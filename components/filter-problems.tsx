import Link from 'next/link';

// The one way a list page (audit, freshness, findings) says its URL filters cannot be used: each
// problem names its field, and a link starts again without filters.

export function FilterProblems({ problems, resetHref, testId }: { problems: { field: string; message: string }[]; resetHref: string; testId: string }) {
  return (
    <div role="alert" data-testid={testId} className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">
      <p className="font-medium">These filters cannot be used:</p>
      <ul className="list-disc pl-5">
        {problems.map((p) => (
          <li key={`${p.field}-${p.message}`} className="break-words">
            {p.message}
          </li>
        ))}
      </ul>
      <Link href={resetHref} className="underline">
        Start again without filters
      </Link>
    </div>
  );
}
