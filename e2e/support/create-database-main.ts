// Creates an empty database on the server of an admin URL and prints its URL (the replicas project's own).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const adminUrl = process.argv[2];
if (!adminUrl) {
  console.error('usage: create-database-main.ts postgres://admin@host:port/postgres');
  process.exit(2);
}
const name = `e2e_replicas_${randomBytes(4).toString('hex')}`;
const client = new pg.Client({ connectionString: adminUrl });
await client.connect();
await client.query(`CREATE DATABASE ${name}`);
await client.end();
const url = new URL(adminUrl);
url.pathname = `/${name}`;
process.stdout.write(url.toString());
