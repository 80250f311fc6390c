// drizzle-kit's configuration for the operational store. Paths are relative to the repository root, where
// `npx drizzle-kit generate --config schema/postgres/drizzle.config.ts` runs (offline: it only diffs
// tables.ts against the snapshots in migrations/meta).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/postgres/tables.ts',
  out: './schema/postgres/migrations',
  strict: true,
  verbose: true,
});
