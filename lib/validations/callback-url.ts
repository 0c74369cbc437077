/** Only same-site paths: "/browse/x" yes, "//evil.example" and "https://..." no. */
export function safeCallbackUrl(value: unknown, fallback = '/browse'): string {
  if (typeof value !== 'string' || value.length > 2048) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
  if (value.startsWith('/sign-in') || value.startsWith('/api/auth')) return fallback;
  return value;
}
