import 'next-auth';
import 'next-auth/jwt';

declare module 'next-auth' {
  interface Session {
    user: { id: string; email: string; name: string | null; role: string | null };
  }
  interface User {
    groups?: string[];
  }
}

declare module 'next-auth/jwt' {
  interface JWT {
    /** Our users.id. */
    uid?: string;
    /** Seconds since the epoch when the user signed in; sessions end ABSOLUTE_SESSION_HOURS later. */
    authTime?: number;
    role?: string | null;
    /** Session id; see lib/auth/session-cookie.ts. */
    sid?: string;
  }
}
