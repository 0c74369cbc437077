import NextAuth from 'next-auth';
import { authOptions } from '@/lib/auth/options';
import { requestIsHttps } from '@/lib/auth/session-cookie';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ nextauth: string[] }> };

async function handler(request: Request, context: Context) {
  return NextAuth(request as never, context as never, authOptions({ https: requestIsHttps(request.headers) }));
}

export { handler as GET, handler as POST };
