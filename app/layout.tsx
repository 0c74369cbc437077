import type { Metadata } from 'next';
import { connection } from 'next/server';
import { SimulatedAwsBanner } from '@/components/simulated-aws-banner';
import { requestThemeChoice } from '@/lib/theme';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Secrets Dashboard', template: '%s · Secrets Dashboard' },
  description: 'Browse parameters and secrets by path, with version history, without reading values.',
  // Files in public/, drawn by scripts/make-icons.ts.
  icons: {
    icon: [
      { url: '/favicon.ico', sizes: '16x16 32x32 48x48' },
      { url: '/icon.svg', type: 'image/svg+xml' },
    ],
    apple: { url: '/apple-touch-icon.png', sizes: '180x180' },
  },
  manifest: '/site.webmanifest',
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page renders per request, never at build time: Next.js puts the request's CSP nonce (set by
  // proxy.ts) on its scripts only while rendering, so a page prerendered without it could not run.
  await connection();
  // The chosen theme is in the first byte of HTML (no script, so no flash of the other theme);
  // without a choice, CSS follows the system setting (app/globals.css).
  const theme = await requestThemeChoice();
  return (
    <html lang="en" data-theme={theme === 'system' ? undefined : theme}>
      <body className="min-h-screen">
        <SimulatedAwsBanner />
        {children}
      </body>
    </html>
  );
}
