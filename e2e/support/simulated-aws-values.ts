// What a browser test knows of the simulated AWS's stored values (its test endpoint GET /__values,
// on loopback), to search every response of its session for them. JSON secrets count whole and
// key by key.

interface StoredValues {
  current: string | null;
  versions: { id: string | number; value: string | null; stages?: string[]; labels?: string[] }[];
}

export async function storedValues(service: 'ssm' | 'secretsmanager', name: string): Promise<StoredValues> {
  const res = await fetch(`${process.env.E2E_SIMULATED_AWS_URL}/__values?service=${service}&name=${encodeURIComponent(name)}`);
  if (!res.ok) throw new Error(`The simulated AWS has no values for ${service} ${name} (HTTP ${res.status}).`);
  return (await res.json()) as StoredValues;
}

/** Every value an item has held, and every string of a JSON value, that is long enough to be telling. */
export function searchableValues(stored: StoredValues): string[] {
  const out = new Set<string>();
  for (const { value } of stored.versions) {
    if (!value) continue;
    out.add(value);
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === 'object') for (const v of Object.values(parsed)) if (typeof v === 'string' && v.length >= 12) out.add(v);
    } catch {
      // Not JSON: the whole value is enough.
    }
  }
  return [...out];
}
