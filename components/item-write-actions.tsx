import { ActionForm } from '@/components/action-form';
import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import { ALPHABETS } from '@/lib/secrets/generate-value';

interface Props {
  storeId: string;
  name: string;
  canGenerate: boolean;
  canRotate: boolean;
}

/** Rotate and generate for those allowed to; the new value is never shown, only its new version. */
export function ItemWriteActions({ storeId, name, canGenerate, canRotate }: Props) {
  if (!canGenerate && !canRotate) return null;
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Change the value">
      <h2 className="font-semibold">Change the value</h2>
      {canRotate && (
        <ActionForm action={rotateSecretAction} submitLabel="Rotate now" className="flex flex-wrap items-center gap-3">
          <input type="hidden" name="storeId" value={storeId} />
          <input type="hidden" name="name" value={name} />
          <span className="text-sm text-slate-600">Writes a new random 32-character version labelled “rotated”.</span>
        </ActionForm>
      )}
      {canGenerate && (
        <ActionForm action={generateValueAction} submitLabel="Generate new value" className="flex flex-wrap items-end gap-3">
          <input type="hidden" name="storeId" value={storeId} />
          <input type="hidden" name="name" value={name} />
          <label className="text-sm">
            <span className="block text-slate-600">Length</span>
            <input name="length" type="number" min={16} max={256} defaultValue={32} className="w-24 rounded-md border border-slate-300 px-2 py-1.5" />
          </label>
          <label className="text-sm">
            <span className="block text-slate-600">Characters</span>
            <select name="alphabet" defaultValue="alphanumeric" className="rounded-md border border-slate-300 px-2 py-1.5">
              {Object.keys(ALPHABETS).map((alphabet) => (
                <option key={alphabet}>{alphabet}</option>
              ))}
            </select>
          </label>
        </ActionForm>
      )}
    </section>
  );
}
