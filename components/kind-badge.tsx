const styles: Record<string, string> = {
  SecureString: 'bg-amber-50 text-amber-800 ring-amber-200',
  String: 'bg-slate-100 text-slate-700 ring-slate-200',
  StringList: 'bg-sky-50 text-sky-800 ring-sky-200',
  secret: 'bg-violet-50 text-violet-800 ring-violet-200',
};

export function KindBadge({ kind }: { kind: string }) {
  return (
    <span className={`inline-flex rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${styles[kind] ?? styles.String}`}>
      {kind}
    </span>
  );
}
