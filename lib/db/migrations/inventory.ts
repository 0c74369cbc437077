import type { AreaMigration } from '../migrate';

// Placeholder: filled in by the inventory area's port to PostgreSQL.
export const INVENTORY_MIGRATIONS: Record<string, AreaMigration> = {};
