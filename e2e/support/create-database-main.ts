// Creates an empty database on the server of an admin URL and prints its URL (the replicas project's own).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const adminUrl = process.argv[2];
if (!adminUrl) {
  console.error('usage: create-database-main.ts postgres://admin@host:port/postgres');
  process.exit(2);
}

async function main(admin: string): Promise<void> {
  const name = `e2e_replicas_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  process.stdout.write(url.toString());
}

main(adminUrl).catch((error: Error) => {
  console.error(`Creating the replicas' database failed: ${error.message}`);
  process.exit(1);
});
