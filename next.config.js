/** Sent with every response: no framing, no MIME sniffing, no referrer leaving the site. */
const SECURITY_HEADERS = [
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
];

// Pages and API answers get their Content-Security-Policy (with a per-request nonce) from proxy.ts.
// The files the proxy skips (its matcher) are never pages; should one be opened on its own (an SVG
// icon, say), it may run nothing and load nothing.
const STATIC_FILE_POLICY = { key: 'Content-Security-Policy', value: "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" };
const STATIC_FILE_SOURCES = [
  '/_next/static/:path*',
  '/_next/image',
  '/:file(favicon\\.ico|icon\\.svg|icon-192\\.png|icon-512\\.png|icon-maskable-512\\.png|apple-touch-icon\\.png|site\\.webmanifest)',
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native addons (and pg, with its optional native binding): loaded from node_modules at run time
  // instead of bundled; the standalone build copies them next to the server.
  serverExternalPackages: ['better-sqlite3', '@node-rs/argon2', 'pg'],
  // Only the container image's build (Dockerfile) sets NEXT_OUTPUT=standalone: a server folder with
  // just the files it uses. `npm start` (`next start`) serves the ordinary build.
  output: process.env.NEXT_OUTPUT === 'standalone' ? 'standalone' : undefined,
  poweredByHeader: false,
  // proxy.ts sees the request's own URL: by default Next.js re-encodes the query first, which turns a
  // malformed escape ("?q=%ZZ") into a valid one ("?q=%25ZZ") that the proxy could not reject.
  skipProxyUrlNormalize: true,
  reactStrictMode: true,
  // Tests are type-checked by `npm run typecheck` (part of `npm test`); the build checks the app only.
  typescript: { tsconfigPath: 'tsconfig.build.json' },
  async headers() {
    return [
      { source: '/:path*', headers: SECURITY_HEADERS },
      ...STATIC_FILE_SOURCES.map((source) => ({ source, headers: [STATIC_FILE_POLICY] })),
    ];
  },
};

module.exports = nextConfig;
