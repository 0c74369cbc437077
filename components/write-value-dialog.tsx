'use client';

import { format } from 'date-fns';
import { useRouter } from 'next/navigation';
import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { ActionResult } from '@/lib/actions/authed-action';
import { ReasonField } from '@/components/reason-field';
import {
  DEFAULT_GENERATED_LENGTH,
  describeGenerateSpec,
  GENERATE_PRESETS,
  isSizedPreset,
  MAX_GENERATED_LENGTH,
  MIN_GENERATED_LENGTH,
  PASSWORD_CLASSES,
  type GeneratePreset,
  type GenerateSpec,
  type PasswordClass,
} from '@/lib/secrets/generate-presets';

// Rotate now and Generate new value, each behind a confirmation dialog that asks why. The browser
// never receives or holds a value: it sends the choice and the reason, and gets back the new
// version's id and time.

export interface WrittenVersionResult {
  version: string;
  createdAt: string;
  pending?: boolean;
}

export type WriteValueAction = (input: unknown) => Promise<ActionResult<WrittenVersionResult>>;

interface Props {
  storeId: string;
  name: string;
  canRotate: boolean;
  canGenerate: boolean;
  /** What Rotate will do, from the server, e.g. "Runs the secret's rotation function in AWS." */
  rotateDescription: string;
  /** What Generate will do, from the server, e.g. "Writes the new value as version 8." */
  generateDescription: string;
  /** Secrets Manager secrets may hold JSON: offer to replace one key's value only. */
  mayBeJson: boolean;
  /** Vault: the version shown when the dialog opened; the server writes with check-and-set on it. */
  basedOnVersion?: string;
  /** What the JSON key does for this store, when it differs from a Secrets Manager secret's (Vault). */
  jsonKeyHelp?: string;
  rotateAction: WriteValueAction;
  generateAction: WriteValueAction;
  /** Shown under the result when the new version is still pending (a rotation AWS has yet to finish). */
  renderPending?: (version: string) => ReactNode;
}

const MAX_JSON_KEY = 256;

const PRESET_LABELS: Record<GeneratePreset, string> = {
  password: 'Password',
  hex: 'Hex',
  base64url: 'Base64url',
  uuid: 'UUID (version 4)',
  'key-256': '256-bit key (base64)',
};

const CLASS_LABELS: Record<PasswordClass, string> = {
  lower: 'Lowercase a–z',
  upper: 'Uppercase A–Z',
  digits: 'Digits 0–9',
  symbols: 'Symbols !#$%…',
};

/**
 * The write's idempotency key, made once per opened dialog. crypto.randomUUID exists only in secure
 * contexts (HTTPS, localhost); a dashboard reached over plain HTTP inside a network still gets a
 * version 4 UUID from getRandomValues.
 */
function newRequestId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function WriteValueDialog(props: Props) {
  const router = useRouter();
  const [written, setWritten] = useState<WrittenVersionResult | null>(null);
  if (!props.canRotate && !props.canGenerate) return null;

  const onWritten = (result: WrittenVersionResult) => {
    setWritten(result);
    // The version timeline is server-rendered: fetch it again to show the new version.
    router.refresh();
  };

  return (
    <section className="min-w-0 space-y-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Change the value">
      <h2 className="font-semibold">Change the value</h2>
      <div className="flex flex-wrap gap-2">
        {props.canRotate && (
          <ConfirmWrite
            kind="rotate"
            storeId={props.storeId}
            name={props.name}
            mayBeJson={props.mayBeJson}
            basedOnVersion={props.basedOnVersion}
            jsonKeyHelp={props.jsonKeyHelp}
            action={props.rotateAction}
            description={props.rotateDescription}
            onWritten={onWritten}
          />
        )}
        {props.canGenerate && (
          <ConfirmWrite
            kind="generate"
            storeId={props.storeId}
            name={props.name}
            mayBeJson={props.mayBeJson}
            basedOnVersion={props.basedOnVersion}
            jsonKeyHelp={props.jsonKeyHelp}
            action={props.generateAction}
            description={props.generateDescription}
            onWritten={onWritten}
          />
        )}
      </div>
      {written && (
        <div role="status" className="space-y-1 text-sm text-slate-700">
          <p>
            New version <code className="break-all font-mono">{written.version}</code> at{' '}
            <time dateTime={written.createdAt}>{formatTime(written.createdAt)}</time>
            {written.pending ? ' (pending)' : ''}.
          </p>
          {written.pending && props.renderPending?.(written.version)}
        </div>
      )}
    </section>
  );
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : format(date, "yyyy-MM-dd HH:mm:ss 'UTC'xxx");
}

interface ConfirmProps {
  kind: 'rotate' | 'generate';
  storeId: string;
  name: string;
  description: string;
  mayBeJson: boolean;
  basedOnVersion?: string;
  jsonKeyHelp?: string;
  action: WriteValueAction;
  onWritten: (result: WrittenVersionResult) => void;
}

function ConfirmWrite({ kind, storeId, name, description, mayBeJson, basedOnVersion, jsonKeyHelp, action, onWritten }: ConfirmProps) {
  const id = useId();
  const dialogRef = useRef<HTMLDialogElement>(null);
  const sending = useRef(false);

  const [requestId, setRequestId] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [jsonKey, setJsonKey] = useState('');
  const [preset, setPreset] = useState<GeneratePreset>('password');
  const [length, setLength] = useState(String(DEFAULT_GENERATED_LENGTH));
  const [classes, setClasses] = useState<PasswordClass[]>([...PASSWORD_CLASSES]);
  const [noLookAlike, setNoLookAlike] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const title = kind === 'rotate' ? 'Rotate now' : 'Generate new value';
  const spec = currentSpec(preset, length, classes, noLookAlike);

  function open() {
    // One id per confirmation: a double click or a retry after an error sends the same one.
    setRequestId(newRequestId());
    setReason('');
    setError(null);
    const dialog = dialogRef.current;
    if (!dialog) return;
    dialog.showModal();
    // The first field (the kind of value, the JSON key or the reason), whatever the browser's default.
    dialog.querySelector<HTMLElement>('select, input, textarea')?.focus();
  }

  function close() {
    dialogRef.current?.close();
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (sending.current || !requestId) return;
    sending.current = true;
    setBusy(true);
    setError(null);
    const input: Record<string, unknown> = { storeId, name, reason, requestId };
    if (mayBeJson && jsonKey.trim() !== '') input.jsonKey = jsonKey;
    if (basedOnVersion !== undefined) input.basedOnVersion = basedOnVersion;
    if (kind === 'generate') {
      input.spec = isSizedPreset(preset)
        ? preset === 'password'
          ? { preset, length, classes, noLookAlike }
          : { preset, length }
        : { preset };
    }
    try {
      const result = await action(input);
      if (!result.ok) {
        setError(result.error);
        return;
      }
      close();
      setRequestId(null);
      onWritten(result.data);
    } catch {
      setError('The server could not be reached; check your connection and confirm again.');
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }

  const toggleClass = (cls: PasswordClass, on: boolean) =>
    setClasses((current) => PASSWORD_CLASSES.filter((c) => (c === cls ? on : current.includes(c))));

  const input = 'w-full min-w-0 rounded-md border border-slate-300 px-2 py-1.5 text-sm';

  return (
    <>
      <button type="button" onClick={open} className="rounded-md bg-slate-900 px-3 py-1.5 text-sm font-medium text-white max-md:min-h-11">
        {title}…
      </button>
      <dialog
        ref={dialogRef}
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-what`}
        // Escape closes (the browser's cancel), except while the write is on its way.
        onCancel={(event) => busy && event.preventDefault()}
        className="m-auto w-[calc(100vw-2rem)] max-w-lg max-h-[calc(100dvh-2rem)] overflow-y-auto rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50"
      >
        <form onSubmit={onSubmit} className="space-y-4 p-4">
          <h2 id={`${id}-title`} className="text-lg font-semibold">
            {title}
          </h2>
          <div id={`${id}-what`} className="space-y-1 text-sm text-slate-700">
            <p>
              Item <code className="break-all font-mono">{name}</code> in store <code className="font-mono">{storeId}</code>.
            </p>
            <p>{description}</p>
            {kind === 'generate' && spec && <p>New value: {describeGenerateSpec(spec)}. It is never shown.</p>}
          </div>

          {kind === 'generate' && (
            <fieldset className="min-w-0 space-y-3 rounded-md border border-slate-200 p-3">
              <legend className="px-1 text-sm font-medium">New value</legend>
              <label className="block text-sm">
                <span className="block text-slate-600">Kind</span>
                <select name="preset" value={preset} onChange={(e) => setPreset(e.target.value as GeneratePreset)} className={input}>
                  {GENERATE_PRESETS.map((p) => (
                    <option key={p} value={p}>
                      {PRESET_LABELS[p]}
                    </option>
                  ))}
                </select>
              </label>
              {isSizedPreset(preset) && (
                <label className="block text-sm">
                  <span className="block text-slate-600">
                    Length ({MIN_GENERATED_LENGTH}–{MAX_GENERATED_LENGTH} characters)
                  </span>
                  <input
                    name="length"
                    type="number"
                    inputMode="numeric"
                    required
                    min={MIN_GENERATED_LENGTH}
                    max={MAX_GENERATED_LENGTH}
                    step={1}
                    value={length}
                    onChange={(e) => setLength(e.target.value)}
                    className={`${input} max-w-32`}
                  />
                </label>
              )}
              {preset === 'password' && (
                <fieldset className="min-w-0">
                  <legend className="text-sm text-slate-600">Characters (at least one kind; each chosen kind appears)</legend>
                  <div className="mt-1 grid grid-cols-1 gap-1 sm:grid-cols-2">
                    {PASSWORD_CLASSES.map((cls) => (
                      <label key={cls} className="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="classes" value={cls} checked={classes.includes(cls)} onChange={(e) => toggleClass(cls, e.target.checked)} />
                        {CLASS_LABELS[cls]}
                      </label>
                    ))}
                  </div>
                  <label className="mt-2 flex items-start gap-2 text-sm">
                    <input type="checkbox" name="noLookAlike" checked={noLookAlike} onChange={(e) => setNoLookAlike(e.target.checked)} className="mt-1" />
                    <span>No look-alike characters (leaves out 0 O o 1 l I i | ! and quotes)</span>
                  </label>
                </fieldset>
              )}
            </fieldset>
          )}

          {mayBeJson && (
            <label className="block text-sm">
              <span className="block text-slate-600">JSON key to replace (optional)</span>
              <input
                name="jsonKey"
                value={jsonKey}
                maxLength={MAX_JSON_KEY}
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => setJsonKey(e.target.value)}
                aria-describedby={`${id}-json-help`}
                className={`${input} font-mono`}
              />
              <span id={`${id}-json-help`} className="mt-1 block text-xs text-slate-500">
                {jsonKeyHelp ?? "For a secret holding a JSON object: only this key's value changes. Leave empty to replace the whole value."}
              </span>
            </label>
          )}

          <ReasonField id={id} label="Reason (required, goes into the audit log)" value={reason} onChange={setReason} rows={3} />

          {error && (
            <p role="alert" className="break-words text-sm text-red-700">
              {error}
            </p>
          )}

          <div className="flex flex-wrap justify-end gap-2">
            <button type="button" onClick={close} disabled={busy} className="rounded-md px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 disabled:opacity-60">
              Cancel
            </button>
            <button type="submit" disabled={busy} className="rounded-md bg-slate-900 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-60">
              {busy ? 'Working…' : `Confirm: ${title.toLowerCase()}`}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** The spec the form describes, or null while it is incomplete (the server names what is missing). */
function currentSpec(preset: GeneratePreset, length: string, classes: PasswordClass[], noLookAlike: boolean): GenerateSpec | null {
  if (!isSizedPreset(preset)) return { preset } as GenerateSpec;
  if (preset === 'password' && classes.length === 0) return null;
  const n = Number(length);
  if (length.trim() === '' || !Number.isInteger(n)) return null;
  return preset === 'password' ? { preset, length: n, classes, noLookAlike } : { preset, length: n };
}
