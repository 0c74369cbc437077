import 'server-only';
import { z } from 'zod';
import { logger } from '@/lib/logger';

// GitHub's profile email is whatever the user made public, and next-auth falls back to the first
// address of any kind. Only GitHub's emails API says which address is verified: the one we trust
// is the primary address, and only when GitHub marks it verified.

export const GITHUB_API = 'https://api.github.com';

const emailsSchema = z
  .array(z.object({ email: z.string().max(320), primary: z.boolean(), verified: z.boolean() }))
  .max(1000);

/**
 * The user's primary email when GitHub says it is verified; null when it is not, or when the
 * answer cannot be had (a refused token, a missing user:email scope, a malformed answer): an
 * address we could not check counts as unverified. `apiBase` and `fetchImpl` are for tests.
 */
export async function githubVerifiedPrimaryEmail(accessToken: string, options: { apiBase?: string; fetchImpl?: typeof fetch } = {}): Promise<string | null> {
  const doFetch = options.fetchImpl ?? fetch;
  try {
    const res = await doFetch(`${options.apiBase ?? GITHUB_API}/user/emails`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'secrets-dashboard' },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) {
      logger.warn({ status: res.status }, 'GitHub emails API refused: the address counts as unverified (does the OAuth app ask for the user:email scope?)');
      return null;
    }
    const parsed = emailsSchema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) {
      logger.warn('GitHub emails API answered in an unexpected shape: the address counts as unverified');
      return null;
    }
    return parsed.data.find((e) => e.primary && e.verified)?.email ?? null;
  } catch (error) {
    logger.warn({ error: error instanceof Error ? error.name : 'unknown' }, 'GitHub emails API could not be reached: the address counts as unverified');
    return null;
  }
}
