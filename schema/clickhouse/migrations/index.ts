// Every ClickHouse migration, in the order they apply. Add new ones at the end with the next id;
// never edit or remove one that has been released.
import type { Migration } from '../migrate.ts';
import { m0001 } from './0001_events.ts';
import { m0002 } from './0002_indexer_status.ts';
import { m0003 } from './0003_derived.ts';
import { m0004 } from './0004_content.ts';
import { m0005 } from './0005_inference_log.ts';
import { m0006 } from './0006_training.ts';
import { m0007 } from './0007_attribution.ts';

export const CLICKHOUSE_MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007];
