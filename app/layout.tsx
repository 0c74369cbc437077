import type { Metadata } from 'next';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Secrets Dashboard', template: '%s · Secrets Dashboard' },
  description: 'Browse parameters and secrets by path, with version history, without reading values.',
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">{children}</body>
    </html>
  );
}
