/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native addon: load it from node_modules at run time instead of bundling it.
  serverExternalPackages: ['better-sqlite3', '@node-rs/argon2'],
  poweredByHeader: false,
  reactStrictMode: true,
  // Tests are type-checked by `npm run typecheck` (part of `npm test`); the build checks the app only.
  typescript: { tsconfigPath: 'tsconfig.build.json' },
};

module.exports = nextConfig;
