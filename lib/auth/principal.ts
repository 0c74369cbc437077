import type { Grant } from './grants';

/** Who is asking: a signed-in user or an API token acting with its user's grants. */
export interface Principal {
  via: 'session' | 'token';
  userId: string;
  email: string;
  name: string | null;
  /** The user's own role on every path, if any (shown in the UI). */
  role: string | null;
  grants: Grant[];
  tokenId?: string;
}

/** Audit actor string: an email, and the token when one was used. */
export function actorOf(principal: Principal | null): string {
  if (!principal) return 'anonymous';
  return principal.tokenId ? `${principal.email} (token ${principal.tokenId})` : principal.email;
}
