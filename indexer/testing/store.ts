// A migrated chDB database in a temp dir, for tests.
import { CLICKHOUSE_MIGRATIONS, migrate, openClickHouse, type ClickHouseStore } from '../../schema/index.ts';

export async function openMigratedStore(dataDir: string, database = 'tributary'): Promise<ClickHouseStore> {
  const store = await openClickHouse({ dataDir, database });
  try {
    await migrate(store, CLICKHOUSE_MIGRATIONS);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
