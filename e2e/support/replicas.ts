// The 'replicas' project: two dashboard servers of the same build on one PostgreSQL database,
// each with a data folder of its own (they share nothing but the database), behind no balancer:
// the tests call each one by its port. Cookies belong to the host, not the port, so one browser
// context is signed in on both.
export const REPLICA_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
export const REPLICA_AUTH_SECRET = 'replicas-e2e-nextauth-secret-0123456789abcdef';

export function replicaUrls(): { a: string; b: string } {
  const a = process.env.E2E_REPLICA_A_URL;
  const b = process.env.E2E_REPLICA_B_URL;
  if (!a || !b) throw new Error('E2E_REPLICA_A_URL / E2E_REPLICA_B_URL are set by playwright.config.ts');
  return { a, b };
}
