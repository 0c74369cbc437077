import { sql, type Kysely } from 'kysely';
import type { AreaMigration } from '../migrate';

// The app area: users and their identity-provider bindings, API tokens, the audit log, sign-in
// failures, revoked sessions, and the coordination tables replicas share (leases, write claims).
// The first migration creates with IF NOT EXISTS so that SQLite files from before migrations are
// adopted as they are.

/* eslint-disable @typescript-eslint/no-explicit-any */
export const APP_MIGRATIONS: Record<string, AreaMigration> = {
  '0001-initial': {
    async up(db: Kysely<any>, dialect) {
      const pg = dialect === 'postgres';
      await db.schema
        .createTable('users')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        // SQLite compares emails without case through the column; PostgreSQL through a lower() index below.
        .addColumn('email', 'text', (c) => (pg ? c.notNull() : c.notNull().unique().modifyEnd(sql`COLLATE NOCASE`)))
        .addColumn('name', 'text')
        .addColumn('role', 'text')
        .addColumn('password_hash', 'text')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('groups', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_sign_in_at', 'text')
        .execute();
      if (pg) await sql`CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower ON users (lower(email))`.execute(db);
      await db.schema
        .createTable('api_tokens')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('audit_log')
        .ifNotExists()
        .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('revoked_sessions')
        .ifNotExists()
        .addColumn('sid', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sign_in_failures')
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sign_in_failures_key_at').ifNotExists().on('sign_in_failures').columns(['key', 'at']).execute();
    },
  },
  '0002-coordination': {
    async up(db: Kysely<any>) {
      // Background work one replica does at a time: whoever holds an unexpired lease.
      await db.schema
        .createTable('leases')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('acquired_at', 'text', (c) => c.notNull())
        .execute();
      // A request id carried out once across replicas, with its first answer for repeats.
      await db.schema
        .createTable('write_requests')
        .ifNotExists()
        .addColumn('request_key', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003-background-requests': {
    async up(db: Kysely<any>) {
      // A replica that does not lead some background work asks the one that does to run it now
      // (lib/background/run-requests.ts). The same request twice before it is taken counts once.
      await db.schema
        .createTable('background_requests')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('background_requests_pk', ['name', 'payload'])
        .execute();
    },
  },
  '0004-keyed-audit-chain': {
    async up(db: Kysely<any>, dialect) {
      const pg = dialect === 'postgres';
      // Where the keyed (HMAC) chain begins: entries before it were written with plain SHA-256 links.
      await db.schema
        .createTable('audit_chain_meta')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('mac', 'text', (c) => c.notNull())
        .execute();
      // Heads written out to the server log and S3 (one row per anchored seq: replicas anchoring
      // the same head at once write it once).
      await db.schema
        .createTable('audit_anchors')
        .ifNotExists()
        .addColumn('seq', pg ? 'bigint' : 'integer', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('entry_at', 'text', (c) => c.notNull())
        .addColumn('anchored_at', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('s3_url', 'text')
        .addColumn('object_lock_until', 'text')
        .addColumn('s3_error', 'text')
        .execute();
      // A log from before the keyed chain keeps its SHA-256 links; the marker, sealed with the
      // chain key in this same transaction, says where they end. A new log needs none (keyed from 1).
      const last = await db.selectFrom('audit_log').select(sql<number | string | null>`max(seq)`.as('seq')).executeTakeFirst();
      const lastSeq = Number(last?.seq ?? 0);
      if (lastSeq > 0) {
        const { recordKeyedFrom } = await import('@/lib/audit/chain-marker');
        await recordKeyedFrom(db, lastSeq + 1);
      }
    },
  },
  '0005-external-identities': {
    async up(db: Kysely<any>) {
      // An identity-provider sign-in is bound to its provider and subject (OIDC sub, GitHub's
      // numeric id) at the first sign-in, and is that account from then on whatever email it
      // asserts. Rows of users created before this migration have no binding: their next sign-in
      // through the provider that created them, with the same email, binds them (lib/auth/external-sign-in.ts).
      await db.schema
        .createTable('external_identities')
        .ifNotExists()
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('external_identities_pk', ['provider', 'subject'])
        .execute();
      await db.schema.createIndex('external_identities_user').ifNotExists().on('external_identities').columns(['user_id', 'provider']).execute();
    },
  },
  '0006-audit-chain-verdict': {
    async up(db: Kysely<any>) {
      // The audit chain's kept verdicts (lib/audit/chain-verdict-store.ts): one row per kind
      // ('incremental': how far new entries are verified and any break found; 'full-pass': the last
      // whole verification or its progress), a JSON body sealed with an HMAC under the audit chain
      // key, and a version that every write bumps (a write based on a stale read changes nothing).
      await db.schema
        .createTable('audit_chain_verdicts')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('mac', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0007-audit-log-filters': {
    async up(db: Kysely<any>, dialect) {
      // The /audit timeline filters the own log in SQL (lib/audit/audit-log-queries.ts) and pages
      // it newest first by (at, seq): each filter it takes walks an index in that order. Store and
      // name are taken apart from the target ("store:/name") by expressions that the queries spell
      // exactly so. PostgreSQL compares them bytewise (COLLATE "C"), as SQLite does, so a path's
      // prefix is one index range on both; on SQLite seq is the rowid, in every index already. The
      // indexes also carry what the grant cut, the other filters and the chart test (target, action,
      // outcome, actor), so rows are counted and chosen without reading the table.
      const pg = dialect === 'postgres';
      const tail = pg ? 'at, seq' : 'at';
      const carried = pg ? ') INCLUDE (target, action, outcome' : ', target, action, outcome';
      const name = pg ? `(substr(target, strpos(target, ':') + 1) COLLATE "C")` : `substr(target, instr(target, ':') + 1)`;
      const target = pg ? '(target COLLATE "C")' : 'target';
      for (const [index, columns] of [
        ['audit_log_at', tail],
        ['audit_log_action_at', `action, ${tail}${pg ? ') INCLUDE (outcome, actor' : ', outcome, actor'}`],
        ['audit_log_outcome_at', `outcome, ${tail}${pg ? ') INCLUDE (action' : ', action'}`],
        ['audit_log_actor_at', `lower(actor), ${tail}`],
        ['audit_log_name_at', `${name}, ${tail}${carried}`],
        ['audit_log_target_at', `${target}, ${tail}${pg ? ') INCLUDE (action, outcome' : ', action, outcome'}`],
      ] as const) {
        await sql`CREATE INDEX IF NOT EXISTS ${sql.raw(index)} ON audit_log (${sql.raw(columns)})`.execute(db);
      }
    },
  },
};
