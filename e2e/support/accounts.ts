// The first admin every browser-test server starts with (ADMIN_EMAIL / ADMIN_PASSWORD).
export const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-password-42' } as const;
