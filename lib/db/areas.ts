import type { AreaMigration } from './migrate';
import { ALERTS_MIGRATIONS } from './migrations/alerts';
import { APP_MIGRATIONS } from './migrations/app';
import { BUILTIN_MIGRATIONS } from './migrations/builtin';
import { CLOUDTRAIL_MIGRATIONS } from './migrations/cloudtrail';
import { FINDINGS_MIGRATIONS } from './migrations/findings';
import { INVENTORY_MIGRATIONS } from './migrations/inventory';

// Every area of the app's data: a file under DATA_DIR on SQLite, a schema on PostgreSQL, and the
// migration sets that make its tables (in order). Start-up and `npm run migrate-data` walk this list.

export interface DataArea {
  name: string;
  sqliteFile: string;
  schema: string;
  /** Applied in this order; each set keeps its own bookkeeping table (migrations_<set name>). */
  migrationSets: { name: string; migrations: Record<string, AreaMigration> }[];
}

export const DATA_AREAS: DataArea[] = [
  { name: 'app', sqliteFile: 'app.db', schema: 'app', migrationSets: [{ name: 'app', migrations: APP_MIGRATIONS }] },
  { name: 'inventory', sqliteFile: 'inventory.db', schema: 'inventory', migrationSets: [{ name: 'inventory', migrations: INVENTORY_MIGRATIONS }] },
  { name: 'cloudtrail', sqliteFile: 'audit-events.db', schema: 'cloudtrail', migrationSets: [{ name: 'cloudtrail', migrations: CLOUDTRAIL_MIGRATIONS }] },
  { name: 'findings', sqliteFile: 'findings.db', schema: 'findings', migrationSets: [{ name: 'findings', migrations: FINDINGS_MIGRATIONS }] },
  { name: 'alerts', sqliteFile: 'alerts.db', schema: 'alerts', migrationSets: [{ name: 'alerts', migrations: ALERTS_MIGRATIONS }] },
  {
    name: 'builtin',
    sqliteFile: 'secrets.db',
    schema: 'builtin',
    migrationSets: [
      { name: 'builtin', migrations: BUILTIN_MIGRATIONS },
      { name: 'builtin-inventory', migrations: INVENTORY_MIGRATIONS },
    ],
  },
];

/** pg_dump's options for every area's schema: a dump of the whole deployment (the README and `npm run backup`'s help). */
export const PG_DUMP_SCHEMAS = DATA_AREAS.map((area) => `--schema=${area.schema}`).join(' ');
