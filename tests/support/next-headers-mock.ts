// Server actions and pages read the session through next/headers, which needs a running request.
// Tests mock it with this module (vi.mock('next/headers', () => import('../support/next-headers-mock')))
// and set `sessionJar.cookie` to act as a signed-in caller.
export const sessionJar = { cookie: null as string | null };

const NAME = 'next-auth.session-token';

export async function cookies() {
  return {
    get: (name: string) => (name === NAME && sessionJar.cookie ? { name, value: sessionJar.cookie } : undefined),
    getAll: () => (sessionJar.cookie ? [{ name: NAME, value: sessionJar.cookie }] : []),
  };
}

export async function headers() {
  return new Headers();
}
