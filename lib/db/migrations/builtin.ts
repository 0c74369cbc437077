import type { AreaMigration } from '../migrate';

// Placeholder: filled in by the builtin area's port to PostgreSQL.
export const BUILTIN_MIGRATIONS: Record<string, AreaMigration> = {};
