/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native addon: load it from node_modules at run time instead of bundling it.
  serverExternalPackages: ['better-sqlite3', '@node-rs/argon2'],
  poweredByHeader: false,
  reactStrictMode: true,
};

module.exports = nextConfig;
