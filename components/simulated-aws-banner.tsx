import { readEnv } from '@/lib/config/env';
import { getStores } from '@/lib/stores/registry';

// Every page of the demo says plainly that its AWS stores are simulated, and which ones, so nobody
// takes the simulated organisation for real AWS. Only names and labels; no item, no value.

async function labelsOf(ids: string[]): Promise<string[]> {
  try {
    const stores = await getStores();
    return ids.map((id) => stores.find((s) => s.id === id)?.label ?? id);
  } catch {
    // A store that failed to open must not take the banner with it.
    return ids;
  }
}

export async function SimulatedAwsBanner() {
  const ids = readEnv().SIMULATED_AWS_STORES;
  if (ids.length === 0) return null;
  const labels = await labelsOf(ids);
  return (
    <div role="note" aria-label="Simulated AWS" className="border-b border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-950">
      <strong className="font-semibold">Demo on a simulated AWS organisation.</strong> These AWS stores are served by a simulator
      running beside the dashboard, not by AWS; their data and CloudTrail are made up:{' '}
      {labels.map((label, i) => (
        <span key={ids[i]}>
          {i > 0 && ', '}
          <span className="font-medium">{label}</span> (<code>{ids[i]}</code>)
        </span>
      ))}
      .
    </div>
  );
}
