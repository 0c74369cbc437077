import { request, type APIRequestContext } from '@playwright/test';

type StorageState = Awaited<ReturnType<APIRequestContext['storageState']>>;

/** Signs in through next-auth's credentials endpoint and returns the browser storage state. */
export async function signInState(baseURL: string, email: string, password: string): Promise<StorageState> {
  const context = await request.newContext({ baseURL });
  try {
    const csrf = await context.get('/api/auth/csrf');
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const response = await context.post('/api/auth/callback/credentials', {
      form: { csrfToken, email, password, json: 'true', callbackUrl: '/browse' },
      maxRedirects: 0,
    });
    const state = await context.storageState();
    if (!state.cookies.some((c) => c.name.endsWith('next-auth.session-token')))
      throw new Error(`Signing in as ${email} failed (HTTP ${response.status()}).`);
    return state;
  } finally {
    await context.dispose();
  }
}
