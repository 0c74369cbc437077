import type { Ref } from 'react';
import { MAX_REASON_LENGTH } from '@/lib/secrets/reason-limit';

/** The required "why" of a write or a reveal, with a live count against the server's 500-character limit. */
export function ReasonField({
  id,
  label,
  value,
  onChange,
  rows = 2,
  textareaRef,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  rows?: number;
  textareaRef?: Ref<HTMLTextAreaElement>;
}) {
  return (
    <label className="block text-sm">
      <span className="block text-slate-700">{label}</span>
      <textarea
        ref={textareaRef}
        name="reason"
        required
        maxLength={MAX_REASON_LENGTH}
        rows={rows}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={`${id}-count`}
        className="w-full min-w-0 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm"
      />
      <span id={`${id}-count`} className="mt-1 block text-right text-xs text-slate-500">
        {value.length}/{MAX_REASON_LENGTH} characters
      </span>
    </label>
  );
}
