import type { AreaMigration } from '../migrate';

// Placeholder: filled in by the cloudtrail area's port to PostgreSQL.
export const CLOUDTRAIL_MIGRATIONS: Record<string, AreaMigration> = {};
