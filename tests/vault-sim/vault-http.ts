// A few lines of fetch for the Vault simulator's tests: Vault's HTTP API as any client sends it
// (X-Vault-Token, X-Vault-Namespace, the LIST method), answers read as status, headers and JSON.

export interface VaultAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export function vaultHttp(url: string, defaults: { token?: string; namespace?: string } = {}) {
  const call = async <T = any>(method: string, path: string, options: { body?: unknown; token?: string | null; namespace?: string; headers?: Record<string, string> } = {}): Promise<VaultAnswer<T>> => {
    const token = options.token === undefined ? defaults.token : options.token;
    const namespace = options.namespace ?? defaults.namespace;
    const res = await fetch(`${url}/v1/${path.replace(/^\/+/, '')}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(token ? { 'x-vault-token': token } : {}),
        ...(namespace ? { 'x-vault-namespace': namespace } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
  return {
    call,
    get: <T = any>(path: string, o?: Parameters<typeof call>[2]) => call<T>('GET', path, o),
    list: <T = any>(path: string, o?: Parameters<typeof call>[2]) => call<T>('LIST', path, o),
    post: <T = any>(path: string, body: unknown, o?: Parameters<typeof call>[2]) => call<T>('POST', path, { ...o, body }),
    put: <T = any>(path: string, body: unknown, o?: Parameters<typeof call>[2]) => call<T>('PUT', path, { ...o, body }),
    del: <T = any>(path: string, o?: Parameters<typeof call>[2]) => call<T>('DELETE', path, o),
  };
}
